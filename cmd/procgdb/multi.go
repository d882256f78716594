package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"procgdb/rsp"
)

// serveMulti serves the clients of an extended-remote server (--multi),
// each in its own goroutine with its own tracer: one client's processes
// stop and run independently of another's, and a client that stalls or
// floods the server holds up nobody else.
//
// A client that leaves without detaching or killing leaves its processes
// stopped where they were, its breakpoints removed, with its tracer; the
// next client to connect takes them over (the longest-waiting tracer
// first), as gdbserver keeps its processes for its next client. newTracee
// makes a tracer for a client when none is waiting; first, the tracer of
// the command line's process (if any), waits for the first client.
//
// When ctx is done every session ends and every tracer is closed: launched
// processes are killed, attached ones detached and resumed, with their
// breakpoints removed.
func serveMulti(ctx context.Context, tp transport, first *tracee, newTracee func() *tracee, cfg rsp.Config, srv *server, stderr io.Writer) error {
	log := srv.logs.log
	var (
		mu   sync.Mutex
		idle = []*tracee{first} // tracers no client serves, oldest first
		all  = []*tracee{first} // every tracer not closed yet
		wg   sync.WaitGroup
	)
	defer func() {
		// Sessions end with ctx (their connections are closed too);
		// then the processes are let go.
		wg.Wait()
		for _, tt := range all {
			if err := tt.tr.Close(); err != nil {
				log.Warn("clean-up", "err", err)
			}
		}
	}()
	for {
		c, who, err := tp.accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintln(stderr, who)
		mu.Lock()
		var tt *tracee
		if len(idle) > 0 {
			tt, idle = idle[0], idle[1:]
		} else {
			tt = newTracee()
			all = append(all, tt)
		}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			forget := srv.connected(who, tt)
			keep := serveClient(ctx, c, tt, cfg, log)
			forget()
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() != nil {
				return // the deferred clean-up closes every tracer
			}
			if keep {
				idle = append(idle, tt)
			} else {
				all = slices.DeleteFunc(all, func(x *tracee) bool { return x == tt })
				if err := tt.tr.Close(); err != nil {
					log.Warn("clean-up", "err", err)
				}
			}
			fmt.Fprintln(stderr, "Remote side has terminated connection.  procgdb will reopen the connection.")
			if line := tp.ready(); line != "" {
				fmt.Fprintln(stderr, line)
			}
		}()
	}
}

// serveClient serves one client of a --multi server on its own tracer
// and reports whether the tracer still holds processes, stopped and clean,
// for the next client.
func serveClient(ctx context.Context, c conn, tt *tracee, cfg rsp.Config, log *slog.Logger) bool {
	// Closing the connection when ctx is done also ends a session that
	// is blocked writing to its client.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	cfg.Attached = tt.tr.IsAttached
	outcome, err := rsp.NewSession(c, tt, cfg).Serve(ctx)
	stop()
	c.Close()
	log.Debug("session ended", "outcome", outcome, "err", err)
	if ctx.Err() != nil {
		return true
	}
	// The next client chooses its own events.
	tt.SetEventOptions(rsp.EventOptions{})
	if err := quiesce(ctx, tt.tr, log); err != nil {
		log.Warn("stopping the processes the client left", "err", err)
		return false
	}
	return len(tt.tr.Processes()) > 0
}
