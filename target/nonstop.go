package target

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Non-stop mode: each thread stops and runs on its own. A thread's event
// is reported (report) while the others run on; Resume runs the stopped
// threads the actions name and leaves every other thread as it is; Stop
// and Interrupt stop chosen threads. The loop follows the running threads
// between the client's packets, and the client's reads (memory, the
// registers of stopped threads) are served meanwhile.
//
// Two things still need a moment of all-stop, for the threads of every
// process (a vfork child shares its parent's memory): stepping a thread
// over the breakpoint it sits on, or past one whose conditions are false,
// with the breakpoint lifted, where it cannot step out of line
// (outofline.go); and giving running threads
// changed debug registers, which the kernel takes only from a stopped
// thread. pause stops the running threads, resume lets them go on, and
// the events they reached meanwhile are reported.

// SetNonStop switches the tracer to non-stop mode, or back to all-stop
// mode, which stops every thread first: events not yet taken with
// WaitStop wait for the resumes that will report them, as events found
// while stopping the world do.
func (c *Ctl) SetNonStop(on bool) error {
	t := c.t
	if on == t.nonStop {
		return nil
	}
	if on {
		if t.running {
			return fmt.Errorf("non-stop: %w", inferior.ErrRunning)
		}
		t.nonStop = true
		return nil
	}
	err := t.stopAll()
	t.nonStop = false
	t.queue = append(t.queue, t.ready...)
	t.ready = nil
	for _, th := range t.threads {
		th.stopReq = false
	}
	return err
}

// NonStop reports whether the tracer is in non-stop mode.
func (c *Ctl) NonStop() bool { return c.t.nonStop }

// Stopped reports whether thread tid of process pid is stopped: in
// all-stop mode, whether the processes are; in non-stop mode, whether
// that thread is.
func (c *Ctl) Stopped(pid, tid int) bool {
	t := c.t
	th := t.threads[tid]
	if th == nil || th.hidden() || th.proc.pid != pid {
		return false
	}
	return !t.running && (!t.nonStop || th.state == stopped)
}

// Stop asks the running threads that id matches (PID and TID may be
// inferior.All) to stop, in non-stop mode; each one's stop is reported as
// inferior.EventSignal with Signal 0, unless another event of it comes
// first. Stopped threads are left as they are.
func (c *Ctl) Stop(id inferior.ThreadID) error {
	t := c.t
	if !t.nonStop {
		return fmt.Errorf("stop threads: %w", errAllStop)
	}
	var errs []error
	for _, th := range t.threads {
		a := inferior.Action{PID: id.PID, TID: id.TID}
		switch {
		case th.state != running || !a.Matches(th.proc.pid, th.tid):
		case th.newborn && !th.gone && !th.proc.unreported:
			// Made just now (gdb may not know it yet): it stays at its
			// first stop and reports it, or it would run on, unseen by
			// a client that stops every thread.
			th.stopReq, th.stopSig = true, 0
		case !th.hidden():
			errs = append(errs, t.requestStop(th, 0))
		}
	}
	return errors.Join(errs...)
}

// errAllStop is returned for what only non-stop mode does.
var errAllStop = errors.New("not in non-stop mode")

// requestStop interrupts a running thread whose stop the client wants,
// with sig (0, or SIGINT) to report it with. A thread that cannot be
// stopped now (dying, or waiting for its vfork child) reports its next
// stop. Must run on the loop.
func (t *Tracer) requestStop(th *thread, sig unix.Signal) error {
	th.stopReq, th.stopSig = true, sig
	if th.unstoppable() {
		return nil
	}
	if err := unix.PtraceInterrupt(th.tid); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("interrupt %d: %w", th.tid, err)
	}
	return nil
}

// interruptNonStop stops one running thread with SIGINT, as the client's
// interrupt asks in non-stop mode: the thread of the last event if it
// runs, else the first running thread. Must run on the loop.
func (t *Tracer) interruptNonStop() error {
	th := t.threads[t.lastTID]
	if th == nil || th.state != running || th.hidden() || th.unstoppable() {
		th = nil
		for _, o := range t.sortedThreads(func(o *thread) bool {
			return o.state == running && !o.hidden() && !o.unstoppable()
		}) {
			th = o
			break
		}
	}
	if th == nil {
		return nil
	}
	return t.requestStop(th, unix.SIGINT)
}

// anyRunning reports whether a thread runs. Must run on the loop.
func (t *Tracer) anyRunning() bool {
	for _, th := range t.threads {
		if th.state == running {
			return true
		}
	}
	return false
}

// live reports whether tracees can change state without the client: the
// processes run (all-stop), or some thread does (non-stop). Must run on
// the loop.
func (t *Tracer) live() bool {
	return t.running || (t.nonStop && t.anyRunning())
}

// readyFor reports whether an event of thread tid waits for WaitStop.
// Must run on the loop.
func (t *Tracer) readyFor(tid int) bool {
	return slices.ContainsFunc(t.ready, func(ev inferior.Event) bool { return ev.TID == tid && threadEvent(ev.Kind) })
}

// threadEvent reports whether events of kind k leave their thread
// stopped.
func threadEvent(k inferior.EventKind) bool {
	switch k {
	case inferior.EventExited, inferior.EventKilled, inferior.EventThreadExited, inferior.EventNoResumed:
		return false
	}
	return true
}

// resumeNonStop runs the planned threads, in non-stop mode. A planned
// thread whose event from before the switch to non-stop waits has it
// reported instead; one that sits on the breakpoint it hit steps over it
// first (stepOver: out of line, or with every other thread paused).
// Must run on the loop.
func (t *Tracer) resumeNonStop(plans []plan) error {
	plans = slices.DeleteFunc(plans, func(pl plan) bool {
		i := slices.IndexFunc(t.queue, func(ev inferior.Event) bool { return ev.TID == pl.th.tid })
		if i < 0 {
			return false
		}
		ev := t.queue[i]
		t.queue = slices.Delete(t.queue, i, i+1)
		t.report(ev)
		return true
	})
	t.runGone()
	for i := range plans {
		pl := &plans[i]
		reported, err := t.passHit(pl)
		if err != nil {
			return err
		}
		if reported {
			pl.th = nil
		}
	}
	var errs []error
	for _, pl := range plans {
		if pl.th != nil && t.threads[pl.th.tid] == pl.th && pl.th.state == stopped {
			errs = append(errs, t.run(pl.th, pl.act.Kind, t.signalFor(&pl)))
		}
	}
	return errors.Join(errs...)
}

// pause stops every running thread for a moment and returns the threads
// that were stopped already, which unpause leaves stopped. Events the
// others reach meanwhile are kept (in non-stop mode, reported).
// Must run on the loop.
func (t *Tracer) pause() map[*thread]bool {
	held := make(map[*thread]bool)
	for _, th := range t.threads {
		if th.state == stopped {
			held[th] = true
		}
	}
	if err := t.stopAll(); err != nil {
		t.log.Warn("pausing threads", "err", err)
	}
	return held
}

// unpause lets the threads pause stopped run on, the threads made
// meanwhile too, but not those that have an event to report; one whose
// stop the client asked for meanwhile reports that stop. Must run on the
// loop.
func (t *Tracer) unpause(held map[*thread]bool) {
	for _, th := range t.sortedThreads(func(th *thread) bool {
		return th.state == stopped && !held[th] && !t.readyFor(th.tid)
	}) {
		if th.stopReq && !th.hidden() {
			t.report(inferior.Event{Kind: inferior.EventSignal, PID: th.proc.pid, TID: th.tid, Signal: int(th.stopSig)})
			continue
		}
		t.cont(th)
	}
}

// pausing runs fn with every thread stopped, in non-stop mode while
// threads run; otherwise it just runs fn. Must run on the loop.
func (t *Tracer) pausing(fn func() error) error {
	if !t.nonStop || !t.anyRunning() {
		return fn()
	}
	held := t.pause()
	defer t.unpause(held)
	return fn()
}

// NextStop returns the next event ready in non-stop mode, without
// waiting; ok is false when there is none.
func (c *Ctl) NextStop() (ev inferior.Event, ok bool) {
	t := c.t
	if len(t.ready) == 0 {
		return inferior.Event{}, false
	}
	ev, t.ready = t.ready[0], t.ready[1:]
	return ev, true
}
