package target

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

type plan struct {
	th  *thread
	act inferior.Action
}

// Resume resumes the threads the actions match (the first matching
// action applies to a thread) and leaves the others stopped. A thread
// that stopped at a breakpoint and still sits on it first steps over it
// on its own, with the breakpoint lifted, so no other thread can run past
// it (the rule is at passHit). If a matched thread already has an event
// waiting, nothing runs and Wait reports it. In non-stop mode only
// stopped threads are matched, running ones run on, and Resume returns as
// soon as the threads run (resumeNonStop).
func (c *Ctl) Resume(actions []inferior.Action) error {
	t := c.t
	if t.running {
		return inferior.ErrRunning
	}
	t.watchAll()
	plans := t.plan(actions)
	if t.nonStop {
		return t.resumeNonStop(plans)
	}
	if ev, ok := t.takeQueued(plans); ok {
		// Nothing runs: the signals the client resumed threads with
		// wait for their next run, or they would be lost (the
		// client thinks them delivered).
		for _, pl := range plans {
			if pl.act.Signal != 0 {
				pl.th.deliver, pl.th.deliverInfo = unix.Signal(pl.act.Signal), nil
			}
		}
		t.report(ev)
		return nil
	}
	t.runGone()
	if len(plans) == 0 && t.anyUnstoppable() {
		// Threads that could not be stopped (waiting for a vfork
		// child, dying) are still running: their next event ends
		// this resume, which the loop waits for once this returns.
		t.running = true
		return nil
	}
	if len(plans) == 0 {
		if t.opts.NoResumed {
			t.report(inferior.Event{Kind: inferior.EventNoResumed})
			return nil
		}
		return inferior.ErrNothingToResume
	}
	for i := range plans {
		reported, err := t.passHit(&plans[i])
		if err != nil || reported {
			return err
		}
	}
	if pl, ok := t.loneStep(plans); ok {
		return t.stepNow(pl)
	}
	var errs []error
	for _, pl := range plans {
		if pl.th == nil {
			continue
		}
		if err := t.run(pl.th, pl.act.Kind, t.signalFor(&pl)); err != nil {
			errs = append(errs, err)
		}
	}
	// The loop waits for the threads' statuses once this returns.
	t.running = true
	t.settle()
	return errors.Join(errs...)
}

// plan matches the actions to the stopped threads the client sees (in
// non-stop mode, those with no event waiting to be reported): the first
// action that matches a thread is its plan.
// Must run on the loop.
func (t *Tracer) plan(actions []inferior.Action) []plan {
	var plans []plan
	for _, th := range t.sortedThreads(func(th *thread) bool {
		return th.state == stopped && !th.hidden() && !t.readyFor(th.tid)
	}) {
		for _, a := range actions {
			if a.Matches(th.proc.pid, th.tid) {
				plans = append(plans, plan{th, a})
				th.proc.forkHeld = false
				t.disarmRange(th)
				th.rangeStart, th.rangeEnd = 0, 0
				th.stepped = a.Kind == inferior.Step
				if th.stepped {
					th.rangeStart, th.rangeEnd = a.RangeStart, a.RangeEnd
				}
				break
			}
		}
	}
	return plans
}

// passHit steps a planned thread over the breakpoint it sits on, if it
// stopped there: the breakpoint is lifted for that one instruction, while
// every other thread is stopped. It reports whether the step ended in an
// event, which it has reported; pl.th is nil when the thread exited
// meanwhile. Must run on the loop.
//
// When procgdb steps a thread over a breakpoint on its own: only a thread
// whose last stop was a hit of that breakpoint, and whose PC the client
// has not moved since, as gdb expects of gdbserver, which never steps over
// gdb's breakpoints by itself. gdb and lldb step over a breakpoint
// themselves (remove it, step, insert it again), so this serves clients
// that resume at a breakpoint they were just told of. Any other thread
// resumed at a breakpoint hits it at once: one whose PC the client moved
// onto it (gdb's jump, set $pc, an IDE's "set next statement"), one
// stopped there for another reason (with the others, or by a signal that
// gdb then sets a breakpoint at the return of), one the client inserted a
// breakpoint under.
func (t *Tracer) passHit(pl *plan) (bool, error) {
	pc, err := t.pc(pl.th)
	if errors.Is(err, unix.ESRCH) {
		// Killed from outside, and already out of its stop: it runs to
		// its end, which the wait then reports.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !t.stillAtHit(pl.th, pc) {
		return false, nil
	}
	ev, ok, err := t.stepOver(pl.th, t.signalFor(pl))
	if err != nil {
		return false, err
	}
	// The client's signal, if any, went with the step.
	pl.act.Signal = 0
	if ok && ev.Kind == inferior.EventStep && ev.TID == pl.th.tid && t.stillInRange(pl.th) {
		ok = false // a range step goes on
	}
	if ok && (ev.Kind != inferior.EventStep || ev.TID != pl.th.tid || pl.act.Kind == inferior.Step) {
		t.report(ev)
		return true, nil
	}
	if t.threads[pl.th.tid] != pl.th {
		pl.th = nil // it exited during the step
	}
	return false, nil
}

// settleTime is how long Resume watches the threads it resumed before it
// leaves them to the loop. gdb resumes for a few instructions at a time
// more often than not (over a breakpoint it lifted, to a breakpoint it
// set at the end of a line or a call, to a conditional breakpoint it
// then finds false), and a stop that comes within this time is ready
// when Resume returns: the loop is never woken and the stop crosses no
// thread. A run that goes on longer costs this much CPU, once.
const settleTime = 50 * time.Microsecond

// settle polls, for at most settleTime, for the statuses of the threads
// just resumed, handling them as the loop would, until they stop.
// Must run on the loop.
func (t *Tracer) settle() {
	pollBriefly(func() bool {
		if !t.running {
			return true
		}
		tid, ws, err := waitNoHang()
		if tid > 0 {
			t.loopStatus(tid, ws)
		}
		return !t.running || err != nil && !errors.Is(err, unix.EINTR)
	})
}

// pollBriefly calls look until it reports done or settleTime passes,
// yielding the CPU between calls (which is where a tracee sharing it
// runs), and reports whether look was done.
func pollBriefly(look func() bool) bool {
	deadline := time.Now().Add(settleTime)
	for {
		if look() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}

// runGone lets gone leaders that wait at their exit event go on to their
// end, which no client can ask for: they no longer exist for it.
// Must run on the loop.
func (t *Tracer) runGone() {
	for _, th := range t.threads {
		if th.gone && th.state == stopped {
			if err := t.run(th, inferior.Continue, 0); err != nil {
				t.log.Warn("resume", "tid", th.tid, "err", err)
			}
		}
	}
}

// anyUnstoppable reports whether a thread is running that cannot be
// stopped (unstoppable). Must run on the loop.
func (t *Tracer) anyUnstoppable() bool {
	for _, th := range t.threads {
		if th.unstoppable() {
			return true
		}
	}
	return false
}

// stillAtHit reports whether th stopped at the breakpoint at pc (or was
// put back on it after a false condition), which is still inserted, and
// its PC is still pc. Must run on the loop.
func (t *Tracer) stillAtHit(th *thread, pc uint64) bool {
	return pc == th.hitAt && th.proc.bps.Has(pc)
}

// signalFor returns the signal a planned thread gets: the client's, or
// else one that passed silently while the thread was being stopped.
func (t *Tracer) signalFor(pl *plan) unix.Signal {
	if pl.act.Signal != 0 {
		return unix.Signal(pl.act.Signal)
	}
	return pl.th.deliver
}

// takeQueued removes and returns the first queued event that the planned
// resume may report: the end of a process or thread, or an event of a
// thread about to be resumed; when that is a thread's stop, one of the
// resumed threads' stops chosen as pick does. A breakpoint hit is dropped
// when the breakpoint has been removed since, or the client moved the
// thread's PC: the thread's PC is already back on the instruction, or
// where the client put it, and it simply runs. Must run on the loop.
// thread.
func (t *Tracer) takeQueued(plans []plan) (inferior.Event, bool) {
	if len(t.queue) == 0 {
		return inferior.Event{}, false
	}
	resumed := make(map[int]bool, len(plans))
	for _, pl := range plans {
		resumed[pl.th.tid] = true
	}
	t.queue = slices.DeleteFunc(t.queue, func(ev inferior.Event) bool {
		if ev.Kind != inferior.EventBreakpoint || !resumed[ev.TID] {
			return false
		}
		th := t.threads[ev.TID]
		pc, err := t.pc(th)
		return err != nil || !t.stillAtHit(th, pc)
	})
	first := slices.IndexFunc(t.queue, func(ev inferior.Event) bool {
		// Nothing of the ends is left to resume.
		return ev.Kind == inferior.EventExited || ev.Kind == inferior.EventKilled || ev.Kind == inferior.EventThreadExited || resumed[ev.TID]
	})
	if first < 0 {
		return inferior.Event{}, false
	}
	i := first
	if fairKind(t.queue[first]) {
		var evs []inferior.Event
		var at []int
		for j, ev := range t.queue {
			if resumed[ev.TID] && fairKind(ev) {
				evs, at = append(evs, ev), append(at, j)
			}
		}
		i = at[t.fairChoice(evs)]
	}
	ev := t.queue[i]
	t.queue = slices.Delete(t.queue, i, i+1)
	return ev, true
}

// stepOver moves th past the breakpoint it sits on: out of line when it
// can (stepAside), whether other threads run or not; or else with the
// int3 lifted while th alone single-steps (delivering sig), every other
// thread stopped (in non-stop mode, paused for the step), and put back.
// It returns the event the step ended with, if any.
// Must run on the loop.
func (t *Tracer) stepOver(th *thread, sig unix.Signal) (ev inferior.Event, ok bool, err error) {
	if sig == 0 {
		ev, ok, err := t.stepAside(th, false)
		if !errors.Is(err, errNotAside) {
			return ev, ok, err
		}
	}
	err = t.pausing(func() error {
		ev, ok, err = t.stepInPlace(th, sig)
		return err
	})
	return ev, ok, err
}

// stepInPlace does stepOver's work with the int3 lifted, while no other
// thread runs. Must run on the loop.
func (t *Tracer) stepInPlace(th *thread, sig unix.Signal) (ev inferior.Event, ok bool, err error) {
	p := th.proc
	th.passing = false
	pc, err := t.pc(th)
	if err != nil {
		return inferior.Event{}, false, err
	}
	bps := p.bps
	cover, err := bps.Uncover(pc)
	if err != nil {
		return inferior.Event{}, false, err
	}
	// One step, even of a range step: the breakpoint must be back before
	// the thread can come round to it again.
	start, end := th.rangeStart, th.rangeEnd
	th.rangeStart, th.rangeEnd = 0, 0
	defer func() {
		th.rangeStart, th.rangeEnd = start, end
		// Not after an exec: the table went with the address space.
		if t.procs[p.pid] == p && p.bps == bps {
			if cerr := cover(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	return t.stepAlone(th, sig)
}

// stillInRange reports whether a thread that has just stepped is still in
// the range of its range step. Must run on the loop.
func (t *Tracer) stillInRange(th *thread) bool {
	pc, err := t.pc(th)
	return err == nil && th.inRange(pc)
}

// stepAlone single-steps th, delivering sig, while the other threads stay
// stopped, and waits for the step's end. It returns the event the step
// ended with; none when th is gone or stopped at its exit.
// Must run on the loop.
func (t *Tracer) stepAlone(th *thread, sig unix.Signal) (inferior.Event, bool, error) {
	// A signal that passes silently while the instruction is pending
	// waits, with its siginfo, for the resume after the step.
	var held unix.Signal
	var heldInfo *[siginfoSize]byte
	defer func() {
		if held != 0 && t.threads[th.tid] == th {
			th.deliver, th.deliverInfo = held, heldInfo
		}
	}()
	for {
		if err := t.run(th, inferior.Step, sig); err != nil {
			return inferior.Event{}, false, err
		}
		sig = 0
		sent := th.injected
		ev, ok, err := t.waitThread(th)
		if err != nil || ok {
			return ev, ok, err
		}
		if t.threads[th.tid] != th || th.state != stopped || th.exitPending {
			// Gone, or about to exit: nothing left to step.
			return inferior.Event{}, false, nil
		}
		if th.passing {
			// The step ran into a breakpoint whose conditions are
			// false: its instruction is the step.
			return t.stepOver(th, 0)
		}
		switch {
		case th.deliver == 0:
			// A clone event: the instruction has not finished yet.
		case sent != 0 && th.injected == 0:
			// The signal run sent for this step came: it goes with
			// the step, as from a signal-delivery-stop.
			sig, th.deliver = th.deliver, 0
		default:
			// A signal that passes silently, kept for the following
			// resume.
			t.keepSiginfo(th)
			held, heldInfo = th.deliver, th.deliverInfo
			th.deliver, th.deliverInfo = 0, nil
		}
	}
}

// loneStep returns the plan of a resume that single-steps one thread
// (no range step: that runs at full speed, rangestep.go) while every
// other thread stays stopped, when that step cannot block:
// the tracer then waits for it at once, on this thread, rather than
// going back to its loop and being woken. A step that could wait for
// something (a system call, or one the kernel restarts when the thread
// resumes) goes the usual way, so that an interrupt can still reach it.
// Must run on the loop.
func (t *Tracer) loneStep(plans []plan) (plan, bool) {
	var lone *plan
	for i := range plans {
		if plans[i].th == nil {
			continue
		}
		if lone != nil {
			return plan{}, false
		}
		lone = &plans[i]
	}
	if lone == nil || lone.act.Kind != inferior.Step || lone.act.RangeEnd > lone.act.RangeStart {
		return plan{}, false
	}
	for _, o := range t.threads {
		if o.state == running && !o.gone {
			return plan{}, false
		}
	}
	return *lone, t.quickStep(lone.th)
}

// quickStep reports whether single-stepping th ends without waiting on
// anything: its next instruction is no system call (syscall, sysenter,
// int 0x80, with at most one prefix byte), and it is not in a system
// call that the kernel restarts when it resumes (rax holds one of the
// -ERESTART* codes). Must run on the loop.
func (t *Tracer) quickStep(th *thread) bool {
	pc, err := t.pc(th)
	if err != nil {
		return false
	}
	g := &th.regs.set.GPR
	if int64(g.Orig_rax) >= 0 {
		switch int64(g.Rax) {
		case -512, -513, -514, -516: // ERESTARTSYS, NOINTR, NOHAND, _RESTARTBLOCK
			return false
		}
	}
	var insn [3]byte
	n, _ := th.proc.mem.read(pc, insn[:])
	if n < len(insn) {
		return false
	}
	th.proc.bps.Shadow(pc, insn[:])
	for _, op := range [][2]byte{{insn[0], insn[1]}, {insn[1], insn[2]}} {
		switch op {
		case [2]byte{0x0f, 0x05}, [2]byte{0x0f, 0x34}, [2]byte{0xcd, 0x80}:
			return false
		}
	}
	return true
}

// stepNow single-steps the thread of a lone step and reports how the
// step ended. Must run on the loop.
func (t *Tracer) stepNow(pl plan) error {
	th := pl.th
	ev, ok, err := t.stepAlone(th, t.signalFor(&pl))
	if err != nil {
		return err
	}
	if !ok {
		// At its exit event: it goes on to its end, which the loop
		// reports.
		if t.threads[th.tid] == th && th.state == stopped {
			t.cont(th)
		}
		t.running = true
		return nil
	}
	t.report(ev)
	return nil
}

// cont resumes a thread after a stop the client does not hear about,
// the way it was running before: a thread in the middle of a single-step
// (caught by a late interrupt, a clone event) steps again, or the step
// would be lost. It delivers the signal the thread
// holds for the program. Must run on the loop.
func (t *Tracer) cont(th *thread) {
	kind := inferior.Continue
	if th.stepping {
		kind = inferior.Step
	}
	if err := t.run(th, kind, th.deliver); err != nil {
		t.log.Warn("resume", "tid", th.tid, "err", err)
	}
}

// goOn lets th, stopped for something the client does not hear of, run
// on: past the breakpoint it must pass first (passBreakpoint, which also
// holds a signal th is to take until the instruction has run), else as
// it was resumed (cont). Must run on the loop.
func (t *Tracer) goOn(th *thread) {
	if th.passing {
		t.passBreakpoint(th)
		return
	}
	t.cont(th)
}

// run resumes one thread, delivering sig. Must run on the loop.
func (t *Tracer) run(th *thread, kind inferior.ActionKind, sig unix.Signal) error {
	kind = t.stepForWatch(th, kind)
	// ESRCH: killed from outside, the registers no longer matter.
	if err := t.writeDebugRegs(th); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	if err := th.regs.flush(th.tid); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	sig, err := t.signalFrom(th, sig)
	if err != nil {
		return err
	}
	// A range step runs at full speed when it can (rangestep.go).
	armed := kind == inferior.Step && sig == 0 && th.rangeEnd > th.rangeStart && t.armRange(th)
	switch {
	case kind == inferior.Step && !armed:
		err = ptraceStep(th.tid, int(sig))
	case t.opts.CatchSyscalls:
		err = unix.PtraceSyscall(th.tid, int(sig))
	default:
		err = unix.PtraceCont(th.tid, int(sig))
	}
	if err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("resume %d: %w", th.tid, err)
	}
	// ESRCH: the thread is dying; its exit status is on its way.
	th.state = running
	th.stepping = kind == inferior.Step
	th.sig, th.deliver, th.deliverInfo, th.hitAt = 0, 0, nil, 0
	th.stepFrom = 0
	if th.regs.gprOK {
		th.stepFrom = th.regs.set.GPR.Rip
	}
	th.regs.invalidate()
	if th.exitPending {
		th.exitPending = false
		th.dying = true
	}
	return nil
}

// Interrupt asks the running processes to stop; Wait then reports
// inferior.EventSignal with SIGINT, unless another event came first. In
// non-stop mode it stops one running thread so (interruptNonStop).
func (c *Ctl) Interrupt() error {
	t := c.t
	if t.nonStop {
		return t.interruptNonStop()
	}
	if !t.running || t.interrupting {
		return nil
	}
	t.interrupting = true
	// Stopping one thread is enough: its stop stops the rest. Not one
	// that cannot stop (a gone leader, above all, the thread of the last
	// event when that was its exit).
	th := t.threads[t.lastTID]
	if th == nil || th.state != running || th.unstoppable() {
		for _, o := range t.threads {
			if o.state == running && !o.newborn && !o.unstoppable() {
				th = o
				break
			}
		}
	}
	if th == nil {
		return nil
	}
	if err := unix.PtraceInterrupt(th.tid); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("interrupt %d: %w", th.tid, err)
	}
	return nil
}

// Running reports whether the processes have been resumed and their stop
// not yet reported.
func (c *Ctl) Running() bool { return c.t.running }
