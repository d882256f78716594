package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Stopping the world (all-stop): when one thread has an event to report,
// finish stops every other thread (interrupting them all first, then
// collecting each), keeps the events they reach meanwhile, picks the one
// to report fairly, and hands it to Wait.

// wait4 blocks for the next status of tid, taking one the loop kept
// first. It goes on after EINTR: the loop's wake signal can arrive late,
// while the loop is already waiting here.
// Must run on the loop.
func (t *Tracer) wait4(tid int) (unix.WaitStatus, error) {
	if ws, ok := t.early[tid]; ok {
		delete(t.early, tid)
		return ws, nil
	}
	// A step or a stop that is on its way usually comes within a few
	// microseconds: polling for it then costs less than sleeping in wait4
	// and being woken.
	var ws unix.WaitStatus
	var err error
	if pollBriefly(func() bool {
		var got int
		got, ws, err = rawWait4(tid, unix.WALL|unix.WNOHANG)
		return got > 0 || err != nil && !errors.Is(err, unix.EINTR)
	}) {
		return ws, err
	}
	for {
		_, ws, err = rawWait4(tid, unix.WALL)
		if !errors.Is(err, unix.EINTR) {
			return ws, err
		}
	}
}

// finish ends a run: it stops every other thread, then hands ev, or an
// event another thread reached meanwhile (pick), to Wait.
// Must run on the loop.
func (t *Tracer) finish(ev inferior.Event) {
	from := len(t.queue)
	if err := t.stopAll(); err != nil {
		t.log.Warn("stopping threads", "err", err)
	}
	t.report(t.pick(ev, from))
}

// pick chooses the event to report among ev, which ended a run, and the
// events other threads reached while they were stopped (t.queue[from:]);
// the others wait in the queue. When threads keep reaching events at once
// (hitting one breakpoint in a loop), reporting the first one to come
// would always favour the same thread, the one the kernel reports first
// or the resume started first, and starve the others: like gdbserver,
// procgdb chooses at random (fairChoice). Only stops at a breakpoint,
// watchpoint, signal or step take part: the client's interrupt and
// process events are reported as they came. Must run on the loop.
func (t *Tracer) pick(ev inferior.Event, from int) inferior.Event {
	if !fairKind(ev) {
		return ev
	}
	evs, at := []inferior.Event{ev}, []int{-1}
	for i := from; i < len(t.queue); i++ {
		if fairKind(t.queue[i]) {
			evs, at = append(evs, t.queue[i]), append(at, i)
		}
	}
	if len(evs) == 1 {
		return ev
	}
	i := at[t.fairChoice(evs)]
	if i < 0 {
		return ev
	}
	picked := t.queue[i]
	t.queue[i] = ev
	return picked
}

// fairChoice returns the index of the event in evs to report: one of a
// thread the client steps, which the client waits for (gdbserver prefers
// it too), or else one at random. Must run on the loop.
func (t *Tracer) fairChoice(evs []inferior.Event) int {
	for i, ev := range evs {
		if th := t.threads[ev.TID]; th != nil && th.stepped {
			return i
		}
	}
	return rand.IntN(len(evs))
}

// fairKind reports whether ev is a thread's stop that is reported in a
// fair order (pick).
func fairKind(ev inferior.Event) bool {
	switch ev.Kind {
	case inferior.EventBreakpoint, inferior.EventHWBreakpoint, inferior.EventWatchpoint, inferior.EventStep:
		return true
	case inferior.EventSignal:
		return ev.Signal != int(unix.SIGINT) // not an interrupt's stop
	}
	return false
}

// report hands ev to Wait. In non-stop mode it joins the events ready
// for WaitStop, and nothing else stops. Must run on the loop.
func (t *Tracer) report(ev inferior.Event) {
	t.lastTID = ev.TID
	if th := t.threads[ev.TID]; th != nil {
		t.disarmRange(th) // its range step is over
	}
	t.log.Debug("stop", "kind", ev.Kind, "pid", ev.PID, "tid", ev.TID, "signal", ev.Signal)
	if t.nonStop {
		if th := t.threads[ev.TID]; th != nil {
			th.stopReq = false // whatever stopped it answers the request
		}
		t.ready = append(t.ready, ev)
		t.childReported(ev)
		return
	}
	t.running = false
	t.unwatchAll()
	t.interrupting = false
	if t.hasReported {
		// Wait has not taken the previous stop: keep this one for later.
		t.queue = append(t.queue, ev)
		return
	}
	t.reported, t.hasReported = ev, true
	t.childReported(ev)
}

// childReported makes the child of a reported fork or vfork event one the
// client knows. Must run on the loop.
func (t *Tracer) childReported(ev inferior.Event) {
	if ev.Kind == inferior.EventFork || ev.Kind == inferior.EventVFork {
		if cp := t.procs[ev.ChildPID]; cp != nil {
			cp.unreported = false
			t.publish()
		}
	}
}

// keep holds events that threads reached while the tracer stopped them:
// in all-stop mode for the resumes that will report them, in non-stop mode
// ready at once. Must run on the loop.
func (t *Tracer) keep(evs ...inferior.Event) {
	if !t.nonStop {
		t.queue = append(t.queue, evs...)
		return
	}
	for _, ev := range evs {
		t.report(ev)
	}
}

// stopAll stops every running thread and waits until each has stopped.
// Events that threads reach meanwhile are kept (keep).
// Must run on the loop.
func (t *Tracer) stopAll() error {
	evs, err := t.stopThreads(func(*thread) bool { return true })
	t.keep(evs...)
	return err
}

// stopThreads stops the running threads that match selects (and the
// threads they make meanwhile, which match as well when match looks at the
// process) and waits until each has stopped; it returns the events they
// reached meanwhile. Must run on the loop.
func (t *Tracer) stopThreads(match func(*thread) bool) ([]inferior.Event, error) {
	var errs []error
	for _, th := range t.threads {
		if th.state == running && !th.newborn && !th.unstoppable() && match(th) {
			if err := unix.PtraceInterrupt(th.tid); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("interrupt %d: %w", th.tid, err))
			}
		}
	}
	var evs []inferior.Event
	waiting := func(th *thread) bool { return th.state == running && !th.unstoppable() && match(th) }
	for {
		// Threads made meanwhile, and threads a status has not
		// stopped, are waited for in the next round.
		ths := t.sortedThreads(waiting)
		if len(ths) == 0 {
			break
		}
		for _, th := range ths {
			if t.threads[th.tid] != th || !waiting(th) {
				continue
			}
			ev, ok, err := t.waitThread(th)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				evs = append(evs, ev)
			} else {
				t.takePendingTrap(th)
			}
		}
	}
	return evs, errors.Join(errs...)
}

// takePendingTrap makes a thread that stopped for the tracer report the
// SIGTRAP it may still have pending. A thread that executes an int3 (or
// ends a single-step) just as PTRACE_INTERRUPT reaches it, typically
// because it was preempted between the trap and its signal delivery,
// reports the interrupt first: its SIGTRAP stays queued and its PC stays
// past the int3. Left there, the trap surfaces on a later resume, after
// the client may have removed the breakpoint, as a SIGTRAP the program
// never raised; after a detach it kills the program. Resumed, the thread
// runs no instruction: the kernel dequeues the pending signal first and
// stops it again, and stopAll waits for that stop, which trap classifies
// as any other (a breakpoint hit is rewound and queued).
// Must run on the loop.
func (t *Tracer) takePendingTrap(th *thread) {
	if t.threads[th.tid] != th || th.state != stopped || th.exitPending {
		return
	}
	pending, err := trapPending(th.tid)
	if err != nil && !errors.Is(err, unix.ESRCH) {
		t.log.Warn("pending signals", "tid", th.tid, "err", err)
	}
	if !pending {
		return
	}
	t.log.Debug("SIGTRAP pending after interrupt", "tid", th.tid)
	if th.deliver != 0 && th.sigStop {
		// Leaving the stop of a signal it must still get.
		t.keepSiginfo(th)
	}
	if err := unix.PtraceCont(th.tid, 0); err != nil {
		if !errors.Is(err, unix.ESRCH) {
			t.log.Warn("take pending trap", "tid", th.tid, "err", err)
		}
		return
	}
	th.state = running
}

// trapPending reports whether a SIGTRAP that the thread does not block
// waits in its own queue of pending signals (where the kernel puts
// traps, unblocking them). A blocked one would not stop the thread.
// Must run on the loop.
func trapPending(tid int) (bool, error) {
	var infos [8][siginfoSize]byte
	n, err := ptracePeekSiginfo(tid, infos[:])
	if err != nil {
		return false, err
	}
	for _, info := range infos[:n] {
		if binary.LittleEndian.Uint32(info[:]) == uint32(unix.SIGTRAP) {
			mask, err := ptraceGetSigmask(tid)
			return err == nil && mask&(1<<(unix.SIGTRAP-1)) == 0, err
		}
	}
	return false, nil
}

// waitThread blocks for the next status of th and handles it without
// resuming anything. Must run on the loop.
func (t *Tracer) waitThread(th *thread) (inferior.Event, bool, error) {
	ws, err := t.wait4(th.tid)
	if errors.Is(err, unix.ECHILD) {
		// Not waitable any more: count it as gone.
		t.log.Warn("thread vanished", "tid", th.tid)
		ev, ok := t.handle(waitEvent{kind: waitExited, tid: th.tid}, true)
		return ev, ok, nil
	}
	if err != nil {
		return inferior.Event{}, false, fmt.Errorf("wait %d: %w", th.tid, err)
	}
	we := classify(th.tid, ws)
	t.log.Debug("wait", "event", we)
	ev, ok := t.handle(we, true)
	return ev, ok, nil
}
