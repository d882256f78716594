// Package regs describes the x86-64 register file as gdb and lldb see it:
// the register numbering, the target description XML, and the encoding of
// one thread's registers for the g, G, p and P packets.
//
// One table (see amd64.go) drives every layout. Register numbers are gdb's
// numbers for amd64 GNU/Linux, which are also the order of the g packet.
package regs

import "golang.org/x/sys/unix"

// Set is the register state of one thread as the kernel gives it: the
// general registers from PTRACE_GETREGS and, when loaded, the XSAVE area
// from PTRACE_GETREGSET NT_X86_XSTATE.
type Set struct {
	GPR unix.PtraceRegs
	// XSave is the XSAVE area in the standard (non-compacted) format; nil
	// when it has not been loaded.
	XSave []byte
	// Layout says where XSAVE components live; never nil in a Set that
	// came from a target.
	Layout *Layout
}
