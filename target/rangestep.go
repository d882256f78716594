package target

import (
	"slices"

	"procgdb/breakpoint"
)

// Range stepping at native speed (gdb's vCont;r START,END): rather than
// single-stepping every instruction while the PC stays in the range, the
// thread runs with an internal breakpoint on every way out of it
// (breakpoint.RangeExits), armed each time it is resumed for the range
// step (run). When it hits one:
//   - at a place outside the range (a jump's target, the fall-through
//     past the end), it has left the range: the step ends there (trap);
//   - at an instruction whose destination is not known in advance (a
//     call, ret, an indirect jump, a system call, what does not decode),
//     its breakpoints come out and it single-steps that instruction, as
//     any step, which the loop waits for (a system call may block): then
//     the PC decides, in the range it runs on with the exits planned again
//     from there, outside the step ends.
//
// Another thread that hits these internal breakpoints passes them the same
// way, out of line, and never reports them. Any other stop (a signal, a
// client's breakpoint, a watchpoint) is reported as in a step; a signal
// delivered with the step, emulated watchpoints, a range too long or
// with too many exits, and exits where no int3 can be written make the
// thread single-step the range as before (in doubt, it steps).

const (
	// maxRangeLen bounds the ranges stepped natively: gdb's are lines.
	maxRangeLen = 1 << 16
	// maxRangeExits bounds the internal breakpoints of one range step.
	maxRangeExits = 256
	// maxInsnLen is the longest x86-64 instruction.
	maxInsnLen = 15
)

// armRange readies th, about to run for a step of its range with no
// signal, to run at full speed: an internal breakpoint at every exit of
// the range from its PC, in place of those of its previous run. It
// reports false, with none left, when th must single-step instead.
// Must run on the loop.
func (t *Tracer) armRange(th *thread) bool {
	start, end := th.rangeStart, th.rangeEnd
	pc, err := t.pc(th)
	if err != nil || end <= start || end-start > maxRangeLen || !th.inRange(pc) || t.stepsForWatch(th.proc) {
		t.disarmRange(th)
		return false
	}
	p := th.proc
	code := make([]byte, end-start+maxInsnLen)
	n, _ := p.mem.read(start, code)
	p.bps.Shadow(start, code[:n])
	exits := breakpoint.RangeExits(code[:n], start, end, pc)
	if len(exits) > maxRangeExits || slices.ContainsFunc(exits, func(e breakpoint.RangeExit) bool { return e.Step && e.At == pc }) {
		// Too many, or it sits on one to single-step.
		t.disarmRange(th)
		return false
	}
	if slices.Equal(exits, th.exits) {
		return true
	}
	t.disarmRange(th)
	for i, e := range exits {
		if err := p.bps.InsertInternal(e.At); err != nil {
			t.log.Debug("range step by single steps", "tid", th.tid, "err", err)
			th.exits = exits[:i]
			t.disarmRange(th)
			return false
		}
	}
	th.exits = exits
	return true
}

// disarmRange removes th's range exits. Must run on the loop.
func (t *Tracer) disarmRange(th *thread) {
	p := th.proc
	for _, e := range th.exits {
		if err := p.bps.RemoveInternal(e.At); err != nil {
			t.log.Warn("range exit", "tid", th.tid, "err", err)
			continue
		}
		if !p.bps.Planted(e.At) {
			// A running thread may have hit it just before.
			p.lift(e.At)
		}
	}
	th.exits = nil
}

// exitAt returns the exit of th's armed range step at addr, if any.
func (th *thread) exitAt(addr uint64) (breakpoint.RangeExit, bool) {
	i := slices.IndexFunc(th.exits, func(e breakpoint.RangeExit) bool { return e.At == addr })
	if i < 0 {
		return breakpoint.RangeExit{}, false
	}
	return th.exits[i], true
}
