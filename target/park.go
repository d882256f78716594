package target

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Parking: a process can die while no client drives the tracer (procgdb
// waits for its first client, or for the next one). A tracee killed from
// outside stops at its exit (PTRACE_EVENT_EXIT, before its memory and
// threads go), and the kernel holds it there, in state t, until its
// tracer resumes it: nothing of it is reaped, and a parent that waits for
// it waits for ever. A pidfd would not tell either, since it becomes
// readable only once the process has exited. So while parked, the tracer
// thread waits for its tracees as it does while they run, and lets a
// thread that reaches its exit stop go on to its end.

// Park watches the tracer's stopped processes while no client drives
// them, until ctx is done, and returns the end of one that ended meanwhile
// (inferior.EventExited or inferior.EventKilled; it is gone from Processes by then), or
// ctx's error. Ends the next resume would have reported (of processes
// that ended while a client stopped the others) are returned too, since
// the next client never heard of those processes. Park fails with
// inferior.ErrNoProcess at once when there is no process to watch, and with
// inferior.ErrRunning while the processes run. Work sent with Do runs while Park
// waits.
func (c *Ctl) Park(ctx context.Context) (inferior.Event, error) {
	t := c.t
	t.collectEnds()
	switch {
	case t.running:
		return inferior.Event{}, fmt.Errorf("park: %w", inferior.ErrRunning)
	case len(t.procs) == 0 && len(t.ended) == 0:
		return inferior.Event{}, fmt.Errorf("park: %w", inferior.ErrNoProcess)
	}
	for {
		r, err := t.block(waitFor{fd: -1, ctx: ctx, park: true})
		if err != nil {
			return inferior.Event{}, err
		}
		if r == waitEnded {
			break
		}
	}
	ev := t.ended[0]
	t.ended = t.ended[1:]
	return ev, nil
}

// loopStatus handles a status the loop collected: as onStatus does, and,
// while parked, it lets a thread that stopped at its exit go on to its end
// (nothing else stops a stopped tracee), and keeps the end of its process
// for Park. Must run on the loop.
func (t *Tracer) loopStatus(tid int, ws unix.WaitStatus) {
	t.loop.recovered("wait status", func() error { t.onStatus(tid, ws); return nil })
	if t.running || !t.parked {
		return
	}
	if th := t.threads[tid]; th != nil && th.state == stopped && th.exitPending {
		t.log.Debug("a thread was killed while no client was connected", "tid", tid)
		t.cont(th)
	}
	t.collectEnds()
}

// collectEnds moves the ends of processes from the queue, where the next
// resume would report them, to the ones Park returns. Must run on the
// loop.
func (t *Tracer) collectEnds() {
	t.queue = slices.DeleteFunc(t.queue, func(ev inferior.Event) bool {
		if ev.Kind != inferior.EventExited && ev.Kind != inferior.EventKilled {
			return false
		}
		t.ended = append(t.ended, ev)
		return true
	})
}
