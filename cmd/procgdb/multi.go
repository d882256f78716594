package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// defaultMaxClients is --max-clients' default: more clients than a small
// machine (two cores) can serve with a tracer each, while it stays far
// below the Go runtime's limit of 10,000 threads.
const defaultMaxClients = 64

// multi serves the clients of an extended-remote server (--multi), each on
// its own goroutine with its own tracer: one client's processes stop and
// run independently of another's, and a client that stalls or floods the
// server holds up nobody else. A client costs a goroutine, which holds no
// thread while it waits for its client; the goroutine becomes its
// tracer's loop, with an OS thread of its own, when the client first runs
// or attaches to a program (target.NewTracer). At most maxClients are
// served at once: one more is refused, its connection closed at once, and
// the refusal logged.
//
// A client that leaves without detaching or killing leaves its processes
// stopped where they were, its breakpoints removed, with its tracer, whose
// goroutine then parks (parkUntil): one killed from outside meanwhile is
// reaped at once, and a tracer left with none is closed. The next client
// to connect takes such a tracer over (the longest-waiting first), on its
// goroutine, as gdbserver keeps its processes for its next client.
//
// When ctx is done every session ends and every tracer is closed: launched
// processes are killed, attached ones detached and resumed, with their
// breakpoints removed.
type multi struct {
	srv        *server
	cfg        rsp.Config
	layout     *regs.Layout
	stderr     io.Writer
	tp         transport
	maxClients int
	wrapper    []string

	mu      sync.Mutex
	idle    []*idleHost // tracers no client serves, oldest first
	clients int         // sessions being served
	refused refusals
	wg      sync.WaitGroup
}

// idleHost is the goroutine of a tracer that waits for its next client.
type idleHost struct {
	next   chan accepted // the client handed to it
	handed func()        // ends its wait, once next has the client
}

// serve accepts clients until ctx is done, then waits until every tracer
// is closed.
func (m *multi) serve(ctx context.Context) error {
	defer m.wg.Wait()
	log := m.srv.logs.log
	for {
		a, err := m.tp.accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		m.mu.Lock()
		if m.clients >= m.maxClients {
			m.mu.Unlock()
			a.l.release()
			m.refused.note(log, a.who, m.maxClients)
			continue
		}
		m.clients++
		var h *idleHost
		if len(m.idle) > 0 {
			h, m.idle = m.idle[0], m.idle[1:]
		}
		m.mu.Unlock()
		if h != nil {
			h.next <- a
			h.handed()
			continue
		}
		m.wg.Add(1)
		go m.client(ctx, a)
	}
}

// client serves a, and then every client handed to its tracer, on this
// goroutine, which is (or becomes) the tracer's loop.
func (m *multi) client(ctx context.Context, a accepted) {
	defer m.wg.Done()
	log := m.srv.logs.log
	tt := m.srv.addTracee(&tracee{tr: target.NewTracer(m.layout, log), stderr: m.stderr, wrapper: m.wrapper})
	c := tt.c()
	c.SetDebugRegisters(m.srv.debugRegs.use)
	defer func() {
		if err := c.Close(); err != nil {
			log.Warn("clean-up", "err", err)
		}
		m.srv.dropTracee(tt)
	}()
	for {
		fmt.Fprintln(m.stderr, a.who)
		serveOn(ctx, tt, a, m.cfg, m.srv)
		m.mu.Lock()
		m.clients--
		m.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		// The processes are clean before the line says the client is
		// gone: tools take it as the end of the session.
		var err error
		if tt.tr.Started() {
			if err = quiesce(ctx, c, log); err != nil {
				log.Warn("stopping the processes the client left", "err", err)
			}
		}
		fmt.Fprintln(m.stderr, "Remote side has terminated connection.  procgdb will reopen the connection.")
		if line := m.tp.ready(); line != "" {
			fmt.Fprintln(m.stderr, line)
		}
		if !tt.tr.Started() || err != nil {
			return // it never had a process, or cannot keep them clean
		}
		next, ok := m.wait(ctx, tt)
		if !ok {
			return
		}
		a = next
	}
}

// wait parks tt's tracer until the next client is handed to it, and
// returns that client; or returns false when its processes have all
// ended, or ctx is done. Must run on the tracer's goroutine.
func (m *multi) wait(ctx context.Context, tt *tracee) (accepted, bool) {
	if len(tt.c().Processes()) == 0 {
		return accepted{}, false
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := &idleHost{next: make(chan accepted, 1), handed: cancel}
	m.mu.Lock()
	m.idle = append(m.idle, h)
	m.mu.Unlock()
	a, ok, err := parkUntil(ctx, tt, h.next, pctx)
	m.mu.Lock()
	taken := !slices.Contains(m.idle, h)
	m.idle = slices.DeleteFunc(m.idle, func(x *idleHost) bool { return x == h })
	m.mu.Unlock()
	if !ok && taken && ctx.Err() == nil {
		// Handed a client as its last process ended: serve it.
		return <-h.next, true
	}
	if err != nil && ctx.Err() == nil {
		m.srv.logs.log.Warn("watching the processes no client serves", "err", err)
	}
	return a, ok
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
