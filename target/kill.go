package target

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// How a process leaves the tracer: killed (Kill) or detached (Detach),
// its threads reaped or let go, its breakpoints out of its code, and what
// the tracer knew of it dropped.

// Kill kills process pid and waits until it is gone.
func (c *Ctl) Kill(pid int) error {
	p := c.t.procs[pid]
	if p == nil {
		return fmt.Errorf("kill %d: %w", pid, inferior.ErrNoProcess)
	}
	return c.t.kill(p)
}

// Detach removes the breakpoints from process pid and lets it run free.
// In non-stop mode its running threads are stopped first, since only a
// stopped thread can be detached, and the other processes' threads run
// on.
func (c *Ctl) Detach(pid int) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	return c.t.pausing(func() error { return c.t.detach(p) })
}

// kill kills a process and reaps all of its threads.
// Must run on the loop.
func (t *Tracer) kill(p *process) error {
	// Fork children the client has not heard of die with their parent.
	for _, cp := range t.pendingForks(p) {
		if err := t.kill(cp); err != nil {
			t.log.Warn("kill fork child", "pid", cp.pid, "err", err)
		}
	}
	if err := unix.Kill(p.pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %d: %w", p.pid, err)
	}
	// A task made with a raw clone may be a thread group of its own,
	// which the process's SIGKILL does not reach. For any other thread
	// kill finds no thread group of that id: ESRCH.
	for _, th := range t.threads {
		if th.proc == p && th.tid != p.pid {
			unix.Kill(th.tid, unix.SIGKILL)
		}
	}
	// A thread whose stop has already been collected (at its exit event,
	// above all, where SIGKILL does not wake it) reports nothing more
	// until it is resumed: let every stopped thread go on to its end.
	for _, th := range t.sortedThreads(func(th *thread) bool { return th.proc == p && th.state == stopped }) {
		if err := unix.PtraceCont(th.tid, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			t.log.Warn("kill", "tid", th.tid, "err", err)
		}
		th.state = running
	}
	for t.procs[p.pid] == p {
		ths := t.sortedThreads(func(th *thread) bool { return th.proc == p })
		if len(ths) == 0 {
			t.dropProcess(p)
			break
		}
		th := ths[0]
		if _, _, err := t.waitThread(th); err != nil {
			t.dropProcess(p)
			return err
		}
		// A thread may still stop on its way out (the exit event):
		// let it finish dying.
		if t.threads[th.tid] == th && th.state == stopped {
			if err := unix.PtraceCont(th.tid, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				t.log.Warn("kill", "tid", th.tid, "err", err)
			}
			th.state = running
		}
	}
	// Its end is not news to the client that asked for it.
	t.dropEvents(func(ev inferior.Event) bool { return ev.PID == p.pid })
	return nil
}

// detach takes the breakpoints out of a stopped process, writes back its
// registers and lets every thread go, with any signal it still holds.
// Must run on the loop.
func (t *Tracer) detach(p *process) error {
	var errs []error
	if err := p.bps.Clear(); err != nil {
		errs = append(errs, err)
	}
	if err := t.unmapScratch(p); err != nil {
		errs = append(errs, err)
	}
	// Signals the client never saw must still reach the program.
	held := make(map[int]unix.Signal)
	for _, ev := range slices.Concat(t.queue, t.ready) {
		if ev.PID == p.pid && ev.Kind == inferior.EventSignal && ev.Signal != int(unix.SIGINT) && ev.Signal != 0 {
			held[ev.TID] = unix.Signal(ev.Signal)
		}
	}
	for _, th := range t.sortedThreads(func(th *thread) bool { return th.proc == p }) {
		if err := th.regs.flush(th.tid); err != nil {
			errs = append(errs, err)
		}
		if err := clearDebugRegs(th); err != nil {
			errs = append(errs, err)
		}
		sig := th.deliver
		if s, ok := held[th.tid]; ok {
			sig = s
		}
		sig, err := t.signalFrom(th, sig)
		if err != nil {
			errs = append(errs, err)
		}
		if err := ptraceDetach(th.tid, int(sig)); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("detach %d: %w", th.tid, err))
		}
	}
	t.dropProcess(p)
	t.dropEvents(func(ev inferior.Event) bool { return ev.PID == p.pid })
	return errors.Join(errs...)
}

// pendingForks returns the children of p's fork and vfork events that
// wait in the queue, which the client has not heard of. Must run on the
// loop.
func (t *Tracer) pendingForks(p *process) []*process {
	var cps []*process
	for _, ev := range t.queue {
		if ev.PID == p.pid && (ev.Kind == inferior.EventFork || ev.Kind == inferior.EventVFork) {
			if cp := t.procs[ev.ChildPID]; cp != nil && cp.unreported {
				cps = append(cps, cp)
			}
		}
	}
	return cps
}

// dropProcess forgets a process and everything about it. Fork children
// the client has not heard of go with it: they are detached and run on,
// as gdb lets go of the children of forks it does not follow.
// Must run on the loop.
func (t *Tracer) dropProcess(p *process) {
	for _, cp := range t.pendingForks(p) {
		if err := t.detach(cp); err != nil {
			t.log.Warn("detach fork child", "pid", cp.pid, "err", err)
		}
	}
	for tid, th := range t.threads {
		if th.proc == p {
			delete(t.threads, tid)
		}
	}
	delete(t.procs, p.pid)
	t.publish()
	t.dropEvents(func(ev inferior.Event) bool {
		return ev.PID == p.pid && ev.Kind != inferior.EventExited && ev.Kind != inferior.EventKilled
	})
	p.mem.close()
}

// dropEvents forgets the kept and ready events that drop selects.
// Must run on the loop.
func (t *Tracer) dropEvents(drop func(inferior.Event) bool) {
	t.queue = slices.DeleteFunc(t.queue, drop)
	t.ready = slices.DeleteFunc(t.ready, drop)
}
