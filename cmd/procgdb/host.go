package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"procgdb/inferior"
	"procgdb/rsp"
	"procgdb/target"
)

// A tracer and the goroutine that uses it: target.Tracer's loop is the
// goroutine that first launches or attaches with it, for good. So a
// session that starts a program runs on, and a session handed a tracer
// that holds processes runs on, that tracer's goroutine; between sessions
// the goroutine parks there (Ctl.Park), watching the processes, which can
// be killed from outside meanwhile, and running what other goroutines ask
// of the tracer (Tracer.Do).

// accepted is a client connection, with gdbserver's line about it.
type accepted struct {
	l   *link
	who string
}

// serveOn serves the client of a on tt's tracer, on the calling goroutine
// (the tracer's, or, for a tracer not started yet, the one that will be),
// and reports how the session ended. When ctx is done the connection is
// closed, which ends the session.
func serveOn(ctx context.Context, tt *tracee, a accepted, cfg rsp.Config, srv *server) (rsp.Outcome, error) {
	cfg.Attached = tt.c().IsAttached
	return serveSessionOn(ctx, tt, a, rsp.NewSession(a.l, launcher{tt}, cfg), srv)
}

// serveSessionOn is serveOn for a session made already: the daemon's
// (--proc-dir), whose client may have watched the process from another
// goroutine before it takes control here.
func serveSessionOn(ctx context.Context, tt *tracee, a accepted, s *rsp.Session, srv *server) (rsp.Outcome, error) {
	forget := srv.connected(a.who, tt)
	defer forget()
	a.l.use(tt.tr)
	tt.link = a.l
	defer func() { tt.link = nil }()
	stop := context.AfterFunc(ctx, func() { a.l.Close() })
	defer stop()
	defer a.l.release()
	outcome, err := serveSession(ctx, s, srv.logs.log)
	srv.logs.log.Debug("session ended", "outcome", outcome, "err", err)
	// The next client chooses its own events.
	tt.SetEventOptions(inferior.EventOptions{})
	return outcome, err
}

// serveSession runs s.Serve. A panic in it (outside a packet's handler,
// which Serve recovers itself) is a bug that ends this session as a
// disconnect rather than procgdb: dying would leave the breakpoints of
// every client in their processes, which the kernel lets run on.
func serveSession(ctx context.Context, s *rsp.Session, log *slog.Logger) (out rsp.Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("session panicked", "panic", v, "stack", string(debug.Stack()))
			out, err = rsp.OutcomeDisconnected, fmt.Errorf("internal error: %v", v)
		}
	}()
	return s.Serve(ctx)
}

// quiesce stops processes a client left running and removes the client's
// breakpoints, so that the processes wait clean for the next client, as
// gdbserver's do. Must run on the tracer's goroutine.
func quiesce(ctx context.Context, c *target.Ctl, log *slog.Logger) error {
	if c.Running() {
		if err := c.Interrupt(); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		// A Wake (the closing of the client's connection, say) ends a
		// wait with nothing: wait on until the processes stop.
		for c.Running() {
			if _, err := c.Wait(wctx); err != nil {
				return fmt.Errorf("stop the process after the client left: %w", err)
			}
		}
	}
	var errs []error
	for _, pid := range c.Processes() {
		errs = append(errs, c.ClearBreakpoints(pid))
	}
	// A fork child the client heard of but never decided about would
	// hold its parent (which waits for it) for ever: let it go, as gdb's
	// default (detach-on-fork) would have at the next resume.
	for _, pid := range c.HeldForks() {
		log.Info("detaching a fork child the client left undecided", "pid", pid)
		errs = append(errs, c.Detach(pid))
	}
	return errors.Join(errs...)
}

// parkUntil waits on tt's tracer, watching its processes, until next
// gives a client (which it returns) or ctx is done. Each process that ends
// meanwhile gets gdbserver's line; once the last has ended, parkUntil
// returns with no client and a nil error, unless next has one already.
// cancel makes next's sender end the wait: the sender calls it after it
// sent. Must run on the tracer's goroutine.
func parkUntil(ctx context.Context, tt *tracee, next <-chan accepted, pctx context.Context) (accepted, bool, error) {
	c := tt.c()
	for {
		select {
		case a := <-next:
			return a, true, nil
		default:
		}
		ev, err := c.Park(pctx)
		switch {
		case err == nil:
			tt.ended(ev)
			continue
		case errors.Is(err, inferior.ErrNoProcess):
			// Nothing (left) to watch.
			select {
			case a := <-next:
				return a, true, nil
			default:
				return accepted{}, false, nil
			}
		case ctx.Err() != nil:
			return accepted{}, false, ctx.Err()
		case pctx.Err() != nil:
			select {
			case a := <-next:
				return a, true, nil
			case <-ctx.Done():
				return accepted{}, false, ctx.Err()
			}
		}
		return accepted{}, false, err
	}
}
