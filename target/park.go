package target

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
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
// (EventExited or EventKilled; it is gone from Processes by then), or
// ctx's error. Ends the next resume would have reported (of processes
// that ended while a client stopped the others) are returned too, since
// the next client never heard of those processes. Park fails with
// ErrNoProcess at once when there is no process to watch, and with
// ErrRunning while the processes run. Other calls may come while Park
// waits, but a client that resumes the processes must end Park first.
func (t *Tracer) Park(ctx context.Context) (Event, error) {
	if !t.th.started.Load() {
		return Event{}, fmt.Errorf("park: %w", ErrNoProcess) // never had one
	}
	defer t.th.do(func() error { t.parked = false; return nil })
	for {
		var ev Event
		var ended bool
		err := t.th.do(func() error {
			t.collectEnds()
			switch {
			case len(t.ended) > 0:
				ev, t.ended, ended = t.ended[0], t.ended[1:], true
			case t.running:
				return fmt.Errorf("park: %w", ErrRunning)
			case len(t.procs) == 0:
				return fmt.Errorf("park: %w", ErrNoProcess)
			default:
				t.parked = true
			}
			return nil
		})
		if err != nil || ended {
			return ev, err
		}
		select {
		case <-t.endedCh:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// waiting reports whether the tracer thread waits for the tracees: while
// they run, and while the tracer is parked with processes to watch.
// Must run on the tracer thread.
func (t *Tracer) waiting() bool {
	return t.running || (t.parked && len(t.procs) > 0)
}

// loopStatus handles a status the tracer thread's loop collected: as
// onStatus does, and, while parked, it lets a thread that stopped at its
// exit go on to its end (nothing else stops a stopped tracee), and keeps
// the end of its process for Park. Must run on the tracer thread.
func (t *Tracer) loopStatus(tid int, ws unix.WaitStatus) {
	t.onStatus(tid, ws)
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
// resume would report them, to the ones Park returns, and wakes Park.
// Must run on the tracer thread.
func (t *Tracer) collectEnds() {
	n := len(t.ended)
	t.queue = slices.DeleteFunc(t.queue, func(ev Event) bool {
		if ev.Kind != EventExited && ev.Kind != EventKilled {
			return false
		}
		t.ended = append(t.ended, ev)
		return true
	})
	if len(t.ended) > n {
		select {
		case t.endedCh <- struct{}{}:
		default: // Park will find them
		}
	}
}
