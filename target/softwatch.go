package target

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Write watchpoints without the debug registers, for machines whose
// debug registers never trap (ProbeDebugRegisters) or a tracer told not
// to use them (SetDebugRegisters). gdb cannot fall back to its own
// software watchpoints there by itself: it believes a remote target's
// hardware watchpoints until its user says otherwise, and a watchpoint
// it cannot insert stops the program from running at all. So the tracer
// keeps write watchpoints in the process's HWTable as usual, writes no
// debug register, and while they are set runs every thread of the
// process one instruction at a time: after each step it compares the
// watched bytes with what they held when the threads were resumed, and a
// change stops the program as a debug register would, after the write.
// Threads step at once, so a change may be seen after the step of a
// thread that did not make it: it is reported for the thread whose last
// instruction stored to the watched bytes (stepWrote), whose own step
// ends after its write. A write that no instruction of the program makes
// (the kernel's, for a system call) is reported when no other thread of
// the process runs, and missed otherwise. A step costs tens of
// microseconds (about 23,000 a second on a small VM), a few times less
// than a round trip per instruction of gdb's own software watchpoints.
// Instruction breakpoints and access watchpoints cannot be done that way
// and are refused.

// ErrNoDebugRegisters is returned for a hardware breakpoint or access
// watchpoint asked of a tracer that does not use the debug registers.
var ErrNoDebugRegisters = errors.New("debug registers not in use")

// watched is what one write watchpoint's bytes held when the threads
// were last resumed.
type watched struct {
	point inferior.HWPoint
	old   []byte
}

// SetDebugRegisters says whether the tracer uses the debug registers
// (the default) or emulates write watchpoints by single-stepping, as
// above; call it before inserting any hardware point.
func (c *Ctl) SetDebugRegisters(on bool) { c.t.noDebugRegs = !on }

// HWSupport reports whether hardware points of kind can be inserted:
// all but read watchpoints (x86 has none) with the debug registers,
// write watchpoints only without.
func (c *Ctl) HWSupport(kind inferior.HWKind) bool {
	return kind != inferior.HWRead && (!c.t.noDebugRegs || kind == inferior.HWWrite)
}

// stepsForWatch reports whether p's threads run one instruction at a
// time, for the write watchpoints of a tracer without debug registers.
// Must run on the loop.
func (t *Tracer) stepsForWatch(p *process) bool {
	return t.noDebugRegs && p.hw.Len() > 0
}

// watchAll records the watched bytes of every process whose threads are
// about to step for its watchpoints. Must run on the loop.
func (t *Tracer) watchAll() {
	for _, p := range t.procs {
		p.watched = p.watched[:0]
		if !t.stepsForWatch(p) {
			continue
		}
		for _, pt := range p.hw.Points() {
			old := make([]byte, pt.Len)
			n, _ := p.mem.read(pt.Addr, old)
			p.bps.Shadow(pt.Addr, old[:n])
			p.watched = append(p.watched, watched{point: pt, old: old[:n]})
		}
	}
}

// unwatchAll forgets the watched bytes once the program has stopped:
// steps made while it is stopped (the stub's own system calls) compare
// nothing. Must run on the loop.
func (t *Tracer) unwatchAll() {
	for _, p := range t.procs {
		p.watched = p.watched[:0]
	}
}

// softWatchHit returns the write watchpoint whose bytes th's last step
// changed, and records their new value so that the change is reported
// once. Must run on the loop.
func (t *Tracer) softWatchHit(th *thread) (inferior.HWPoint, bool) {
	p := th.proc
	for i := range p.watched {
		w := &p.watched[i]
		cur := make([]byte, len(w.old))
		n, _ := p.mem.read(w.point.Addr, cur)
		p.bps.Shadow(w.point.Addr, cur[:n])
		if n < len(cur) || bytes.Equal(cur, w.old) {
			continue
		}
		// Threads step at once: the writer is the thread whose
		// instruction stored there; one that may have (a system call)
		// only when no other thread of the process runs.
		switch t.stepClaim(th, w) {
		case didNotWrite:
			continue
		case mayHaveWritten:
			if t.othersRunning(th) {
				continue
			}
		}
		w.old = cur
		return w.point, true
	}
	return inferior.HWPoint{}, false
}

// stepClaim says whether th's last step wrote the watched bytes of w.
// Must run on the loop, with th's registers loaded (trap did).
func (t *Tracer) stepClaim(th *thread, w *watched) writeClaim {
	if th.stepFrom == 0 {
		return mayHaveWritten // not known where it stepped from
	}
	var code [15]byte // the longest x86 instruction
	n, _ := th.proc.mem.read(th.stepFrom, code[:])
	th.proc.bps.Shadow(th.stepFrom, code[:n])
	return stepWrote(code[:n], th.stepFrom, &th.regs.set.GPR, w.point.Addr, w.point.Len)
}

// writeClaim says whether an instruction wrote some bytes.
type writeClaim int

const (
	didNotWrite    writeClaim = iota
	mayHaveWritten            // a system call, a string instruction, or not decoded
	wrote                     // its destination covers some of the bytes
)

// stepWrote says whether the x86-64 instruction at the start of code,
// just run from pc and leaving the registers g, wrote any of [addr,
// addr+n): its memory destination (its first operand), or the stack slot
// of a push or call, overlaps them. Registers are taken after the
// instruction, which a store to memory does not change (save a push's or
// call's stack pointer, which then points at the slot written). A string
// instruction or a system call may have; so may one that does not decode.
func stepWrote(code []byte, pc uint64, g *unix.PtraceRegs, addr uint64, n int) writeClaim {
	in, err := x86asm.Decode(code, 64)
	if err != nil || in.Op == 0 { // Op 0: cut short, only prefixes
		return mayHaveWritten
	}
	at, size := uint64(0), 0
	switch in.Op {
	case x86asm.PUSH, x86asm.PUSHFQ, x86asm.CALL:
		at, size = g.Rsp, 8
	case x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.ENTER,
		x86asm.SYSCALL, x86asm.SYSENTER, x86asm.INT:
		return mayHaveWritten
	default:
		m, ok := in.Args[0].(x86asm.Mem)
		if !ok {
			return didNotWrite
		}
		ea, ok := effectiveAddress(m, pc+uint64(in.Len), g)
		if !ok {
			return mayHaveWritten
		}
		at, size = ea, max(in.MemBytes, 1)
	}
	if at < addr+uint64(n) && addr < at+uint64(size) {
		return wrote
	}
	return didNotWrite
}

// effectiveAddress computes m's address from the registers g, with next
// the address of the next instruction (for RIP-relative operands); ok is
// false for an addressing form it does not know (32-bit registers).
func effectiveAddress(m x86asm.Mem, next uint64, g *unix.PtraceRegs) (uint64, bool) {
	ea := uint64(m.Disp)
	switch m.Segment {
	case 0, x86asm.CS, x86asm.DS, x86asm.ES, x86asm.SS:
	case x86asm.FS:
		ea += g.Fs_base
	case x86asm.GS:
		ea += g.Gs_base
	default:
		return 0, false
	}
	if m.Base != 0 {
		v, ok := reg64(m.Base, next, g)
		if !ok {
			return 0, false
		}
		ea += v
	}
	if m.Index != 0 {
		v, ok := reg64(m.Index, next, g)
		if !ok {
			return 0, false
		}
		ea += v * uint64(m.Scale)
	}
	return ea, true
}

// reg64 returns the value of a 64-bit register in g.
func reg64(r x86asm.Reg, next uint64, g *unix.PtraceRegs) (uint64, bool) {
	if r == x86asm.RIP {
		return next, true
	}
	gprs := [...]uint64{g.Rax, g.Rcx, g.Rdx, g.Rbx, g.Rsp, g.Rbp, g.Rsi, g.Rdi,
		g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15}
	if r < x86asm.RAX || r > x86asm.R15 {
		return 0, false
	}
	return gprs[r-x86asm.RAX], true
}

// othersRunning reports whether a thread of th's process other than th
// is running. Must run on the loop.
func (t *Tracer) othersRunning(th *thread) bool {
	for _, o := range t.threads {
		if o != th && o.proc == th.proc && o.state == running {
			return true
		}
	}
	return false
}

// stepForWatch turns a continue of th into a step over the whole address
// space when its process's watchpoints are emulated: the thread then
// steps until an event or a watched change stops it.
// Must run on the loop.
func (t *Tracer) stepForWatch(th *thread, kind inferior.ActionKind) inferior.ActionKind {
	if kind != inferior.Continue || !t.stepsForWatch(th.proc) {
		return kind
	}
	th.rangeStart, th.rangeEnd = 0, math.MaxUint64
	return inferior.Step
}

// checkHWKind refuses what a tracer without debug registers cannot do.
// Must run with the tracer's state locked.
func (t *Tracer) checkHWKind(p inferior.HWPoint) error {
	if t.noDebugRegs && p.Kind != inferior.HWWrite {
		return fmt.Errorf("%v at %#x: %w", p.Kind, p.Addr, ErrNoDebugRegisters)
	}
	return nil
}
