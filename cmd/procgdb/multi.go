package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"procgdb/rsp"
)

// defaultMaxClients is --max-clients' default: more clients than a small
// machine (two cores) can serve with a tracer each, while it stays far
// below the Go runtime's limit of 10,000 threads.
const defaultMaxClients = 64

// serveMulti serves the clients of an extended-remote server (--multi),
// each in its own goroutine with its own tracer: one client's processes
// stop and run independently of another's, and a client that stalls or
// floods the server holds up nobody else. A client costs a goroutine; its
// tracer's OS thread starts only when the client launches or attaches
// (target.NewTracer). At most maxClients are served at once: one more is
// refused, its connection closed at once, and the refusal logged.
//
// A client that leaves without detaching or killing leaves its processes
// stopped where they were, its breakpoints removed, with its tracer; the
// next client to connect takes them over (the longest-waiting tracer
// first), as gdbserver keeps its processes for its next client. Meanwhile
// the tracer watches them (watch): one killed from outside is reaped at
// once, and a tracer left with none is closed. newTracee makes a tracer
// for a client when none is waiting; first, the tracer of the command
// line's process (if any), waits for the first client.
//
// When ctx is done every session ends and every tracer is closed: launched
// processes are killed, attached ones detached and resumed, with their
// breakpoints removed.
func serveMulti(ctx context.Context, tp transport, first *tracee, newTracee func() *tracee, maxClients int, cfg rsp.Config, srv *server, stderr io.Writer) error {
	log := srv.logs.log
	var (
		mu       sync.Mutex
		idle     []*tracee              // tracers no client serves, oldest first
		watching = map[*tracee]func(){} // how to end the watch of each idle tracer
		all      = []*tracee{first}     // every tracer not closed yet
		clients  int                    // sessions being served
		wg       sync.WaitGroup
		refused  refusals
	)
	// drop closes a tracer no client will have; mu is held.
	drop := func(tt *tracee) {
		all = slices.DeleteFunc(all, func(x *tracee) bool { return x == tt })
		if err := tt.tr.Close(); err != nil {
			log.Warn("clean-up", "err", err)
		}
		srv.dropTracee(tt)
	}
	// wait makes tt wait for the next client, watching its processes;
	// mu is held.
	wait := func(tt *tracee) {
		idle = append(idle, tt)
		wctx, cancel := context.WithCancel(ctx)
		done := watch(wctx, tt, func() {
			mu.Lock()
			defer mu.Unlock()
			if i := slices.Index(idle, tt); i >= 0 { // no client took it meanwhile
				idle = slices.Delete(idle, i, i+1)
				delete(watching, tt)
				drop(tt)
			}
		})
		watching[tt] = func() { cancel(); <-done }
	}
	// take returns the longest-waiting tracer, its watch over, or nil.
	take := func() *tracee {
		mu.Lock()
		if len(idle) == 0 {
			mu.Unlock()
			return nil
		}
		tt := idle[0]
		idle = idle[1:]
		stop := watching[tt]
		delete(watching, tt)
		mu.Unlock()
		stop() // outside mu, which the watch may be waiting for
		return tt
	}
	mu.Lock()
	wait(first)
	mu.Unlock()
	defer func() {
		// Sessions end with ctx (their connections are closed too);
		// then the processes are let go.
		wg.Wait()
		for take() != nil {
		}
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
		mu.Lock()
		if clients >= maxClients {
			mu.Unlock()
			c.Close()
			refused.note(log, who, maxClients)
			continue
		}
		clients++
		mu.Unlock()
		tt := take()
		if tt == nil {
			tt = newTracee()
			mu.Lock()
			all = append(all, tt)
			mu.Unlock()
		}
		fmt.Fprintln(stderr, who)
		wg.Add(1)
		go func() {
			defer wg.Done()
			forget := srv.connected(who, tt)
			keep := serveClient(ctx, c, tt, cfg, log)
			forget()
			mu.Lock()
			defer mu.Unlock()
			clients--
			if ctx.Err() != nil {
				return // the deferred clean-up closes every tracer
			}
			if keep {
				wait(tt)
			} else {
				drop(tt)
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
	outcome, err := serveSession(ctx, rsp.NewSession(c, tt, cfg), log)
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

// refusals logs the clients a full server refuses: the first at once,
// then at most one line a second, which counts the refusals since the
// last, so that a flood of connections does not flood the log as well.
type refusals struct {
	last  time.Time
	count int // refused since last was logged
}

func (r *refusals) note(log *slog.Logger, who string, max int) {
	r.count++
	if now := time.Now(); now.Sub(r.last) >= time.Second {
		log.Warn("client refused: the server serves as many clients as --max-clients allows", "max", max,
			"client", strings.TrimPrefix(who, "Remote debugging from "), "refused", r.count)
		r.last, r.count = now, 0
	}
}
