package target

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// The loop's waits: the Ctl methods through which the code on the loop (a
// client's session, above all) waits for its client and for its tracees,
// and block, the one place where they all block (see loop.go for how).

// waitFor says what a wait of the loop waits for.
type waitFor struct {
	fd       int   // a client's descriptor, or -1
	events   int16 // for fd: unix.POLLIN or unix.POLLOUT
	deadline time.Time
	ctx      context.Context // nil for none
	stop     bool            // a stop to report (Wait, WaitStop)
	park     bool            // the end of a process (Park)
}

// waitResult says why block returned.
type waitResult int

const (
	waitReady   waitResult = iota + 1 // fd is ready
	waitStopped                       // a stop is ready to report
	waitEnded                         // a process ended (park)
	waitTimeout                       // the deadline passed
	waitWoken                         // Wake was called
)

// Wait blocks until the processes stop after Resume, with every thread
// stopped, and returns the event that ended the run; or until ctx is
// done. Work sent with Do runs while it waits.
func (c *Ctl) Wait(ctx context.Context) (inferior.Event, error) {
	ev, _, err := c.WaitStop(ctx, -1)
	return ev, err
}

// WaitStop is Wait for a loop that also serves a client: it returns
// stopped false, and no event, as soon as the client's descriptor fd has
// bytes to read (an interrupt, or the end of the connection), so that the
// caller can read them and wait again. fd -1 watches nothing. In non-stop
// mode (SetNonStop) it returns the threads' events one by one as they
// come, while other threads run on.
func (c *Ctl) WaitStop(ctx context.Context, fd int) (ev inferior.Event, stopped bool, err error) {
	t := c.t
	r, err := t.block(waitFor{fd: fd, events: unix.POLLIN, ctx: ctx, stop: true})
	if err != nil || r != waitStopped {
		// The client's bytes, or a Wake: the caller looks at its
		// connection.
		return inferior.Event{}, false, err
	}
	if ev, ok := c.NextStop(); ok {
		return ev, true, nil
	}
	ev, t.hasReported = t.reported, false
	return ev, true, nil
}

// WaitInput blocks until the client's descriptor fd is ready to read (or,
// with write, to write), deadline passes (os.ErrDeadlineExceeded; a zero
// deadline is none), or Wake is called. A session calls it where a read or
// write of its connection would block, and then tries again. Work sent
// with Do runs while it waits, and tracees that run are followed.
func (c *Ctl) WaitInput(fd int, write bool, deadline time.Time) error {
	events := int16(unix.POLLIN)
	if write {
		events = unix.POLLOUT
	}
	r, err := c.t.block(waitFor{fd: fd, events: events, deadline: deadline})
	if err == nil && r == waitTimeout {
		err = os.ErrDeadlineExceeded
	}
	return err
}

// Wake ends the wait of the loop in progress (WaitInput and WaitStop
// return as if the client's descriptor were ready), so that its caller
// looks at what changed: a connection closed, above all. It may be called
// from any goroutine.
func (t *Tracer) Wake() {
	if t.started.Load() {
		t.woken.Store(true)
		t.loop.notify()
	}
}

// block is the loop's one waiting place. It returns as soon as what w
// waits for is there; work sent with Do runs meanwhile, and the statuses
// of tracees are handled as they come. Must run on the loop.
func (t *Tracer) block(w waitFor) (waitResult, error) {
	if t.loop == nil {
		return 0, ErrNotStarted
	}
	var fds []unix.PollFd
	if w.fd >= 0 {
		fds = []unix.PollFd{{Fd: int32(w.fd), Events: w.events}}
	}
	if w.park {
		t.parked = true
		defer func() { t.parked = false }()
	}
	var timed bool
	var stopCtx func() bool
	defer func() {
		if timed {
			t.loop.disarmTimer()
		}
		if stopCtx != nil {
			stopCtx()
		}
	}()
	for first := true; ; first = false {
		switch {
		case t.closed:
			return 0, ErrClosed
		case t.woken.Swap(false):
			// The client's connection may be closing: its descriptor
			// is watched no more.
			t.loop.unwatchInput()
			return waitWoken, nil
		case w.ctx != nil && w.ctx.Err() != nil:
			return 0, w.ctx.Err()
		case w.stop && (t.hasReported || len(t.ready) > 0):
			return waitStopped, nil
		}
		if w.park {
			if t.collectEnds(); len(t.ended) > 0 {
				return waitEnded, nil
			}
		}
		timeout := time.Duration(-1)
		if !w.deadline.IsZero() {
			if timeout = time.Until(w.deadline); timeout <= 0 {
				return waitTimeout, nil
			}
		}
		if !t.live() && !(w.park && len(t.procs) > 0) {
			// No tracee can change state (but for SIGKILL, which the
			// next resume sees): wait for the client and for work.
			t.loop.unwatchInput()
			n, err := t.loop.poll(fds, timeout)
			if err != nil {
				return 0, err
			}
			if n > 0 {
				return waitReady, nil
			}
			continue
		}
		// Tracees can change state: take a status that is there first.
		tid, ws, err := waitNoHang()
		switch {
		case tid > 0:
			t.loopStatus(tid, ws)
			continue
		case errors.Is(err, unix.ECHILD):
			// Nothing to wait for, although the tracer thinks
			// something runs: wait for the client or for work rather
			// than spin.
			t.log.Warn("wait", "err", err)
			n, err := t.loop.poll(fds, timeout)
			if err != nil {
				return 0, err
			}
			if n > 0 {
				return waitReady, nil
			}
			continue
		}
		if t.passed {
			// A breakpoint in a loop is hit again soon: the stop is
			// taken as it comes, without the sleep and wake-up of a
			// wait4 (as settle does after a resume).
			t.passed = false
			if pollBriefly(func() bool {
				tid, ws, err = waitNoHang()
				return tid > 0 || err != nil
			}) && tid > 0 {
				t.loopStatus(tid, ws)
				continue
			}
		}
		if len(fds) > 0 && first && (!w.stop || t.nonStop) {
			// A client that talks while threads run (non-stop mode)
			// usually sends its next packet within moments: wait for
			// it in ppoll first, which its bytes end directly, rather
			// than in wait4, which they end with a signal. A stop that
			// comes meanwhile is seen at most clientGrace later.
			grace := clientGrace
			if timeout >= 0 {
				grace = min(grace, timeout)
			}
			if n, err := t.loop.poll(fds, grace); err != nil || n > 0 {
				return waitReady, err
			}
			continue
		}
		if len(fds) > 0 {
			if err := t.loop.watchInput(w.fd); err != nil {
				return 0, err
			}
			// Bytes that come from now on interrupt wait4; the ones
			// that came before are seen here.
			if n, err := t.loop.poll(fds, 0); err != nil || n > 0 {
				return waitReady, err
			}
		}
		if w.ctx != nil && stopCtx == nil {
			stopCtx = context.AfterFunc(w.ctx, t.loop.notify)
		}
		t.loop.armTimer(!timed, max(timeout, 0))
		timed = true
		tid, ws, err = t.loop.wait4()
		switch {
		case tid > 0:
			t.loopStatus(tid, ws)
		case err != nil && !errors.Is(err, unix.ECHILD):
			return 0, err
		}
	}
}
