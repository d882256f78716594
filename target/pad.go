package target

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/agentexpr"
	"procgdb/breakpoint"
	"procgdb/inferior"
)

// Conditions run in the process. A breakpoint whose conditions the stub
// evaluates costs a stop of the thread at each hit, true or false, and
// a program that hits one in a loop crawls. So once a hit finds them
// false, and when they compile to machine code (agentexpr.AppendNative),
// the int3 gives way to a jump to a pad in a scratch page
// (breakpoint.Pad) that evaluates them in the thread itself: a false
// hit then costs no stop at all, only a true one (or one whose condition
// faults) traps, and is taken here as a hit of the breakpoint, decided
// again by the interpreter (padHit). Only the client's breakpoints with
// conditions and no commands are patched, at an instruction that runs
// displaced by itself; internal breakpoints, new conditions, a removal,
// a write over the instruction and a step in place put the int3 back
// (breakpoint.Table.Patch). Over an instruction shorter than the jump,
// the jump ends with the next instruction's own first bytes, which it
// leaves as they are (breakpoint.PadRange): the pad then goes in a page
// mapped for it in the window of addresses such a jump can reach.
//
// Every stop of a thread in a pad rewinds it (leavePad) to where it
// stands in the original code, before anything reads its registers or a
// signal handler gets a frame: no client sees a PC in a pad, and a
// detach leaves nothing that returns into one. A condition that reads
// the breakpoint's own instruction sees the jump there; gdb's conditions
// read data.

// padded is a pad written in a scratch page.
type padded struct {
	pad    *breakpoint.Pad
	acts   *breakpoint.Actions // the conditions it runs
	native []byte              // compiled
	orig   []byte              // the original instruction it displaces
}

// padBreakpoint makes th, at a breakpoint whose conditions it found
// false, go on through the breakpoint's pad, written and patched in now
// when it can be; done reports whether th is taken care of: it runs on,
// or it reached an event (ev, ok: the caller reports it, th still on the
// breakpoint) or its end while a page for the pad was being mapped.
// Must run on the loop.
func (t *Tracer) padBreakpoint(th *thread) (ev inferior.Event, ok, done bool) {
	p := th.proc
	bps := p.bps
	pc, err := t.pc(th)
	if err != nil || th.deliver != 0 || bps.Internal(pc) || !bps.Has(pc) || bps.Patched(pc) {
		return ev, false, false
	}
	a := bps.Actions(pc)
	s := p.scratch
	if a == nil || len(a.Conds) == 0 || len(a.Cmds) > 0 || s.noPad[pc] == a {
		return ev, false, false
	}
	code, err := p.instruction(pc)
	if err != nil {
		return ev, false, false
	}
	pd := s.pads[pc]
	if pd == nil || pd.acts != a || !bytes.HasPrefix(code, pd.orig) {
		pd, err = t.writePad(p, pc, code, a, pd)
		if errors.Is(err, errNoScratch) {
			// A short instruction's pad has a window of its own (it is
			// not where the steps out of line map their pages): map a
			// page there, once.
			first, last, rerr := breakpoint.PadRange(code, pc)
			if rerr != nil || last-first >= 1<<31 {
				return ev, false, false // next time, in the page a step out of line maps
			}
			_, ev, ok, err = t.mapScratch(th, func(ms []Mapping) (uint64, bool) { return holeIn(ms, first, last) })
			if ok || t.threadGone(th) {
				return ev, ok, true
			}
			if err == nil {
				pd, err = t.writePad(p, pc, code, a, pd)
			}
		}
		if err != nil {
			t.log.Debug("no pad", "pid", p.pid, "at", pc, "err", err)
			if s.noPad == nil {
				s.noPad = make(map[uint64]*breakpoint.Actions)
			}
			s.noPad[pc] = a
			return ev, false, false
		}
	}
	if err := bps.Patch(pc, pd.pad.Jump); err != nil {
		t.log.Debug("patch breakpoint", "pid", p.pid, "at", pc, "err", err)
		return ev, false, false
	}
	if err := t.setPC(th, pd.pad.Resume()); err != nil {
		return ev, false, false
	}
	th.passing = false
	t.cont(th)
	return ev, false, true
}

// writePad lays out the pad of the breakpoint at pc, whose original
// instruction starts code, with the conditions of a, and writes it in a
// free run of slots of a scratch page of p where NewPad accepts it; or
// keeps old, the pad it had, when that runs the same. It maps no page:
// for an instruction of five bytes or more, the first false hit's step
// out of line has mapped one near pc; padBreakpoint maps one in a short
// instruction's window. Must run on the loop.
func (t *Tracer) writePad(p *process, pc uint64, code []byte, a *breakpoint.Actions, old *padded) (*padded, error) {
	native, err := agentexpr.AppendNative(nil, a.Conds)
	if err != nil {
		return nil, err
	}
	if old != nil && bytes.Equal(old.native, native) && bytes.HasPrefix(code, old.orig) {
		// gdb inserts a breakpoint again, with the same conditions,
		// after each stop at it.
		old.acts = a
		return old, nil
	}
	// The layout's size does not depend on where it lies; the middle of
	// its range is near pc when that is a jump's reach, where a
	// RIP-relative operand reaches too.
	first, last, err := breakpoint.PadRange(code, pc)
	if err != nil {
		return nil, err
	}
	trial, err := breakpoint.NewPad(code, pc, first+(last-first)/2, native)
	if err != nil {
		return nil, err
	}
	slots := (len(trial.Code) + slotSize - 1) / slotSize
	s := p.scratch
	var pad *breakpoint.Pad
	at, ok := s.take(slots, func(at uint64) bool {
		pad, err = breakpoint.NewPad(code, pc, at, native)
		return err == nil
	})
	if !ok {
		return nil, errNoScratch
	}
	if err := p.writeScratch(at, pad.Code, slots*slotSize); err != nil {
		return nil, err
	}
	pd := &padded{pad: pad, acts: a, native: native, orig: bytes.Clone(code[:len(pad.Jump)])}
	if s.pads == nil {
		s.pads = make(map[uint64]*padded)
	}
	s.pads[pc] = pd
	t.log.Debug("pad", "pid", p.pid, "breakpoint", pc, "at", at, "bytes", len(pad.Code))
	return pd, nil
}

// leavePad rewinds th, stopped in a pad of its process, to where it
// stands in the original code (breakpoint.Pad.Rewind). It returns the
// breakpoint's address when the stop (we) is a hit of that breakpoint
// through the pad: the pad's trap, a single step onto the pad, or a
// fault in the pad's own code; 0 otherwise. A thread that ran the trap
// but stopped for something else first is rewound, and its trap's
// SIGTRAP, still to come, is taken as the hit then (padPending).
// Must run on the loop.
func (t *Tracer) leavePad(th *thread, we waitEvent) uint64 {
	rip, err := t.pc(th)
	if err != nil {
		return 0
	}
	trapped := we.kind == waitSignal && we.sig == unix.SIGTRAP
	if pending := th.padPending; pending != 0 && trapped {
		th.padPending = 0
		if rip == pending {
			return pending
		}
	}
	var pad *breakpoint.Pad
	for _, pd := range th.proc.scratch.pads {
		if pd.pad.Contains(rip) {
			pad = pd.pad
			break
		}
	}
	if pad == nil {
		return 0
	}
	g := &th.regs.set.GPR
	b := blockOf(g)
	if _, err := pad.Rewind(&b, rip, func(at uint64) (breakpoint.Block, error) { return th.proc.readBlock(at) }); err != nil {
		// The stack is gone: the thread stays where it is, and the
		// client sees why it stopped there.
		t.log.Warn("rewind from pad", "tid", th.tid, "rip", rip, "err", err)
		return 0
	}
	setBlock(g, &b)
	th.regs.gprDirty = true
	switch {
	case trapped && pad.Trapped(rip),
		we.kind == waitSignal && faultSignal(we.sig) && pad.Faulted(rip):
		return pad.Addr
	case pad.Trapped(rip):
		th.padPending = pad.Addr
	}
	return 0
}

// faultSignal reports whether sig is one the CPU raises for the
// instruction that runs.
func faultSignal(sig unix.Signal) bool {
	return sig == unix.SIGSEGV || sig == unix.SIGBUS || sig == unix.SIGFPE || sig == unix.SIGILL
}

// readBlock reads the registers a pad saved at addr.
func (p *process) readBlock(addr uint64) (breakpoint.Block, error) {
	var buf [8 * breakpoint.BlockSlots]byte
	var b breakpoint.Block
	n, err := p.mem.read(addr, buf[:])
	if err != nil {
		return b, err
	}
	if n < len(buf) {
		return b, fmt.Errorf("read %#x: %d of %d bytes", addr, n, len(buf))
	}
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	return b, nil
}

// padHit decides th's hit, through the pad, of the breakpoint at addr,
// where its PC is back: as a hit of its int3 while the client still has
// the breakpoint; a breakpoint removed meanwhile is no longer there, and
// th runs the instruction. Must run on the loop.
func (t *Tracer) padHit(th *thread, addr uint64) (ev inferior.Event, ok bool) {
	if !th.proc.bps.Has(addr) {
		return ev, false
	}
	return t.hitInt3(th, addr)
}

// blockOf returns the general registers in g in a pad's order.
func blockOf(g *unix.PtraceRegs) breakpoint.Block {
	return breakpoint.Block{g.Rax, g.Rbx, g.Rcx, g.Rdx, g.Rsi, g.Rdi, g.Rbp, g.Rsp,
		g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15, g.Rip, g.Eflags}
}

// setBlock sets the general registers in g from b.
func setBlock(g *unix.PtraceRegs, b *breakpoint.Block) {
	g.Rax, g.Rbx, g.Rcx, g.Rdx, g.Rsi, g.Rdi, g.Rbp, g.Rsp = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
	g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15 = b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
	g.Rip, g.Eflags = b[16], b[17]
}
