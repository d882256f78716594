// Package regs describes the x86-64 register file as gdb and lldb see it:
// the register numbering, the target description XML, and the encoding of
// one thread's registers for the g, G, p and P packets.
//
// One table (see amd64.go) drives every layout. Register numbers are gdb's
// numbers for amd64 GNU/Linux, which are also the order of the g packet.
//
// The package does no I/O. A target fills a Set from the kernel: GPR from
// PTRACE_GETREGS always, XSave from PTRACE_GETREGSET NT_X86_XSTATE (a
// buffer of Layout.Size bytes) when a request touches a register for which
// NeedsXSave is true, which every g and G does. After SetG or SetRegister
// it writes back what changed. The
// Layout, from HostLayout (or NewLayout, for another machine), says where
// the kernel's XSAVE area keeps each component and so which registers
// exist: AVX's, AVX-512's and PKRU come and go with their components;
// xsave.go holds the pure functions over that area.
package regs

import "golang.org/x/sys/unix"

// Set is the register state of one thread as the kernel gives it: the
// general registers from PTRACE_GETREGS and, when loaded, the XSAVE area
// from PTRACE_GETREGSET NT_X86_XSTATE.
type Set struct {
	// GPR holds the general registers, the segment selectors and bases,
	// and orig_rax.
	GPR unix.PtraceRegs
	// XSave is the XSAVE area in the standard (non-compacted) format, or
	// the 512-byte FXSAVE image from PTRACE_GETFPREGS when
	// Layout.FXSaveOnly; nil when it has not been loaded. Writes through
	// the Set modify it in place.
	XSave []byte
	// Layout says where XSAVE components live; never nil in a Set that
	// came from a target.
	Layout *Layout
}
