package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"procgdb/inferior"
	"procgdb/procdir"
	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// The daemon (--proc-dir DIR): /proc/PID/gdb in user space. DIR holds a
// unix socket per process (package procdir keeps them in step with the
// machine's processes and decides who may connect); a client that
// connects to DIR/PID debugs process PID, exactly when it could ptrace
// it itself.
//
// Each process that has clients has a host: a tracer, attached on the
// first connection, whose loop is the goroutine that served that
// connection, and the line of its clients in the order they came. The
// first in line controls the process, on the loop (as every procgdb
// session does); the others observe it (observer.go), each on a
// goroutine of its own that reaches the tracer with Tracer.Do.
//
//   - A controller that leaves without detaching leaves the process
//     stopped where it was, its breakpoints removed (quiesce), still
//     attached: the next in line takes control at once, or the next
//     client to connect does. No moment exists in which the process runs
//     unobserved, or in which another tracer could attach.
//   - An observer that becomes the first in line stops its session
//     between two packets (rsp.Session.Yield) and hands it to the loop,
//     which serves it on as the controller.
//   - A controller that detaches lets the process run on, untraced, and
//     the observers' connections close: the next client attaches again.
//     One that kills it, or sees it exit, ends the host the same way.
//
// A process nobody connects to is never traced.

// daemon serves DIR's sockets.
type daemon struct {
	srv        *server
	log        *slog.Logger
	layout     *regs.Layout
	dir        *procdir.Dir
	path       string     // DIR
	base       rsp.Config // what every session's configuration starts from
	maxClients int
	// files gives each client its files, opened with its rights
	// (clientFiles).
	files func() (rsp.FileSystem, error)

	mu      sync.Mutex
	hosts   map[int]*procHost // by PID
	clients int               // admitted and not gone
	refused refusals          // clients refused for --max-clients
	wg      sync.WaitGroup
}

// serveProcDir runs procgdb --proc-dir until SIGTERM, SIGINT or SIGHUP:
// then every session ends, every traced process is let go with its
// breakpoints removed, and the sockets are removed.
func serveProcDir(o options, stderr io.Writer) error {
	logs, err := newLogs(o, stderr)
	if err != nil {
		return err
	}
	defer logs.close()
	log := logs.log
	debugRegs := checkDebugRegisters(o, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	// A client gone from its socket must not kill procgdb with SIGPIPE.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	layout, err := regs.HostLayout()
	if err != nil {
		return err
	}
	files, err := fileSystems(o)
	if err != nil {
		return err
	}
	dir, err := procdir.Watch(ctx, o.procDir, procdir.Options{Log: log})
	if err != nil {
		return err
	}
	defer dir.Close()
	srv := &server{o: o, logs: logs, started: time.Now(), comm: "--proc-dir " + o.procDir}
	srv.debugRegs = debugRegs()
	d := &daemon{
		srv: srv, log: log, layout: layout, dir: dir, path: o.procDir,
		base:       rsp.Config{Logger: log, WireLog: logs.wire, TargetXML: layout.TargetXML()},
		maxClients: cmpOr(o.maxClients, defaultMaxClients),
		files:      files,
		hosts:      map[int]*procHost{},
	}
	control, err := openControl(d)
	if err != nil {
		return err
	}
	d.wg.Add(1)
	go d.serveControl(ctx, control)
	log.Info("serving", "dir", o.procDir, "following", d.following())
	fmt.Fprintf(stderr, "Listening on %s\n", o.procDir)
	return d.serve(ctx)
}

// cmpOr returns v, or def when v is zero.
func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// serve takes connections until ctx is done, then waits until every host
// has let its process go.
func (d *daemon) serve(ctx context.Context) error {
	defer d.wg.Wait()
	for {
		c, err := d.dir.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		d.wg.Add(1)
		go d.admit(ctx, c)
	}
}

// admit checks a connection and hands it to its process's host, or
// refuses it with the reason.
func (d *daemon) admit(ctx context.Context, c *procdir.Conn) {
	defer d.wg.Done()
	if err := c.Check(); err != nil {
		d.refuse(c, err)
		c.Close()
		return
	}
	if !d.take(c) {
		c.Close()
		return
	}
	l, err := newPeerLink(c)
	if err != nil {
		d.log.Warn("client", "pid", c.PID, "err", err)
		d.left()
		c.Close()
		return
	}
	who := fmt.Sprintf("uid %d (process %d)", c.Cred.Uid, c.Cred.Pid)
	d.join(ctx, &procClient{a: accepted{l: l, who: who}, conn: c})
}

// take counts a client against --max-clients, or refuses it.
func (d *daemon) take(c *procdir.Conn) bool {
	d.mu.Lock()
	full := d.clients >= d.maxClients
	if full {
		d.refused.note(d.log, fmt.Sprintf("uid %d", c.Cred.Uid), d.maxClients)
	} else {
		d.clients++
	}
	d.mu.Unlock()
	if full {
		d.refuse(c, &procdir.Refusal{PID: c.PID, Reason: fmt.Sprintf("procgdb serves as many clients as it may (--max-clients %d): try again later", d.maxClients)})
	}
	return !full
}

// refuse answers a client that may not debug its process with the reason
// (rsp.Refuse); the caller then closes its connection. The process is
// never touched.
func (d *daemon) refuse(c *procdir.Conn, why error) {
	if _, ok := errors.AsType[*procdir.Refusal](why); !ok {
		why = fmt.Errorf("procgdb cannot tell whether you may debug process %d: %w", c.PID, why)
	}
	d.log.Info("client refused", "pid", c.PID, "uid", c.Cred.Uid, "peer", c.Cred.Pid, "reason", why)
	if err := rsp.Refuse(c, why); err != nil {
		d.log.Debug("refusal not delivered", "pid", c.PID, "err", err)
	}
}

// left counts a client gone.
func (d *daemon) left() {
	d.mu.Lock()
	d.clients--
	d.mu.Unlock()
}

// join puts a client in its process's line: the first client of a
// process starts its host, later ones observe, unless the host waits for
// a controller.
func (d *daemon) join(ctx context.Context, cl *procClient) {
	pid := cl.conn.PID
	d.mu.Lock()
	h := d.hosts[pid]
	if h == nil || h.ending {
		nh := &procHost{d: d, pid: pid, done: make(chan struct{}), ready: make(chan struct{}), line: []*procClient{cl}}
		nh.tt = &tracee{tr: target.NewTracer(d.layout, d.log.With("pid", pid)), stderr: io.Discard, osTable: noOSData}
		if h != nil {
			nh.prev = h.done
		}
		d.hosts[pid] = nh
		d.wg.Add(1)
		d.mu.Unlock()
		go nh.run(ctx)
		return
	}
	h.line = append(h.line, cl)
	if len(h.line) == 1 {
		// The process waits, stopped, for its next controller.
		kick := h.kick
		d.mu.Unlock()
		if kick != nil {
			kick()
		}
		return
	}
	cl.state = observing
	// Made now, for the loop may ask it to yield before it serves.
	cl.sess = rsp.NewSession(cl.a.l, newObserver(h.tt, pid), h.config(cl))
	d.wg.Add(1)
	d.mu.Unlock()
	go h.observe(ctx, cl)
}

// procHost is one process that has (or had until a moment ago) clients:
// its tracer, and its clients in line.
type procHost struct {
	d   *daemon
	pid int
	tt  *tracee // its tracer, whose loop run is
	// prev is closed once the host before this one (of the same PID) has
	// let the process go, which must come before this one attaches.
	prev <-chan struct{}
	done chan struct{}
	// ready is closed once the process is attached, or failed is set:
	// observers wait for it.
	ready  chan struct{}
	failed error

	// Under d.mu.
	line []*procClient
	// kick ends the loop's wait for its next controller; nil when it
	// does not wait.
	kick context.CancelFunc
	// ending: the host takes no more clients (a new one starts a new
	// host, which waits for this one).
	ending bool
}

// clientState is where a client is in its process's line.
type clientState int

const (
	waiting     clientState = iota // not served yet
	observing                      // served by a goroutine of its own
	yielded                        // an observer's session, stopped for the loop to take
	controlling                    // served on the loop
)

// procClient is a client of a process.
type procClient struct {
	a    accepted
	conn *procdir.Conn
	// sess is its session, made when it is first served and kept when
	// it moves from its goroutine to the loop.
	sess       *rsp.Session
	state      clientState
	yieldAsked bool
}

// run is the host's loop: it attaches, serves its controllers one after
// the other, and lets the process go when no client is left to serve it
// (or ctx is done).
func (h *procHost) run(ctx context.Context) {
	defer h.d.wg.Done()
	defer close(h.done)
	if h.prev != nil {
		<-h.prev
	}
	log := h.d.log.With("pid", h.pid)
	h.d.srv.addTracee(h.tt)
	defer h.d.srv.dropTracee(h.tt)
	c := h.tt.c()
	c.SetDebugRegisters(h.d.srv.debugRegs.use)
	if err := h.attach(); err != nil {
		h.failed = err
		close(h.ready)
		h.end(err)
		if err := c.Close(); err != nil {
			log.Warn("clean-up", "err", err)
		}
		return
	}
	log.Info("attached")
	close(h.ready)
	c.SetExecCheck(h.recheck)
	for {
		cl, ok := h.nextController(ctx, log)
		if !ok {
			break
		}
		out, err := h.control(ctx, cl)
		log.Info("controller left", "client", cl.a.who, "outcome", out, "err", err)
		if out == rsp.OutcomeDetached || len(c.Processes()) == 0 || ctx.Err() != nil {
			break
		}
		// Stopped where it was, and clean, for the next controller.
		if err := quiesce(ctx, c, log); err != nil {
			log.Warn("stopping the process its controller left", "err", err)
			break
		}
	}
	h.end(nil)
	if err := c.Close(); err != nil {
		log.Warn("clean-up", "err", err)
	}
	log.Info("let go")
}

// noOSData offers none of `info os`'s tables: they read every process's
// /proc files with procgdb's rights, which a client must not borrow.
func noOSData(string) bool { return false }

// attach attaches to the process, on the loop, and checks the first
// client again: the process may have changed (run a set-user-ID program)
// since its connection was checked.
func (h *procHost) attach() error {
	c := h.tt.c()
	if err := c.Attach(h.pid); err != nil {
		return err
	}
	h.d.mu.Lock()
	first := h.line[0]
	h.d.mu.Unlock()
	if err := first.conn.Check(); err != nil {
		if derr := c.Detach(h.pid); derr != nil {
			h.d.log.Warn("detach", "pid", h.pid, "err", derr)
		}
		return err
	}
	return nil
}

// recheck runs at each exec of a traced process (target's exec check):
// every client must still be allowed to debug it, now that it runs
// another program. A refused observer is dropped; a refused controller
// makes the tracer let the process go, which ends the host.
func (h *procHost) recheck(pid int) error {
	h.d.mu.Lock()
	line := slices.Clone(h.line)
	controller := len(line) > 0 && line[0].state == controlling
	h.d.mu.Unlock()
	var refusal error
	for i, cl := range line {
		if err := cl.conn.CheckProcess(pid); err != nil {
			h.d.log.Info("client dropped at exec", "pid", pid, "client", cl.a.who, "reason", err)
			cl.a.l.Close()
			if i == 0 && controller {
				refusal = err
			}
		}
	}
	return refusal
}

// nextController waits, on the loop, until the first client in line can
// take control, and returns it; false when the process ended meanwhile,
// or ctx is done. An observer first in line is asked to yield its
// session.
func (h *procHost) nextController(ctx context.Context, log *slog.Logger) (*procClient, bool) {
	d := h.d
	c := h.tt.c()
	for {
		d.mu.Lock()
		if len(h.line) > 0 {
			cl := h.line[0]
			switch {
			case cl.state == waiting || cl.state == yielded:
				cl.state = controlling
				d.mu.Unlock()
				return cl, true
			case cl.state == observing && !cl.yieldAsked:
				cl.yieldAsked = true
				cl.sess.Yield()
			}
		}
		pctx, cancel := context.WithCancel(ctx)
		h.kick = cancel
		d.mu.Unlock()
		ev, err := c.Park(pctx)
		cancel()
		d.mu.Lock()
		h.kick = nil
		d.mu.Unlock()
		switch {
		case err == nil:
			log.Info("process ended while no client controlled it", "event", ev.Kind)
			if len(c.Processes()) == 0 {
				return nil, false
			}
		case ctx.Err() != nil, errors.Is(err, inferior.ErrNoProcess):
			return nil, false
		case pctx.Err() == nil:
			log.Warn("watching the process no client controls", "err", err)
			return nil, false
		}
	}
}

// control serves cl as the controller, on the loop, and takes it out of
// the line when it leaves.
func (h *procHost) control(ctx context.Context, cl *procClient) (rsp.Outcome, error) {
	if cl.sess == nil {
		cl.sess = rsp.NewSession(cl.a.l, h.tt, h.config(cl))
	} else {
		cl.sess.SetTarget(h.tt)
	}
	out, err := serveSessionOn(ctx, h.tt, cl.a, cl.sess, h.d.srv)
	h.drop(cl)
	return out, err
}

// observe serves cl as an observer, on this goroutine, until it leaves or
// yields its session to the loop.
func (h *procHost) observe(ctx context.Context, cl *procClient) {
	defer h.d.wg.Done()
	select {
	case <-h.ready:
	case <-ctx.Done():
	}
	if h.failed != nil || ctx.Err() != nil {
		if h.failed != nil {
			h.d.refuse(cl.conn, h.failed)
		}
		cl.a.l.release()
		h.drop(cl)
		return
	}
	forget := h.d.srv.connected(cl.a.who, h.tt)
	stop := context.AfterFunc(ctx, func() { cl.a.l.Close() })
	out, err := serveSession(ctx, cl.sess, h.d.log)
	stop()
	forget()
	h.d.mu.Lock()
	keep := out == rsp.OutcomeYielded && !h.ending
	if keep {
		cl.state = yielded
	}
	kick := h.kick
	h.d.mu.Unlock()
	if !keep {
		h.d.log.Info("observer left", "pid", h.pid, "client", cl.a.who, "outcome", out, "err", err)
		cl.a.l.release()
		h.drop(cl)
	}
	if kick != nil {
		kick()
	}
}

// drop takes a client that left out of the line.
func (h *procHost) drop(cl *procClient) {
	d := h.d
	d.mu.Lock()
	h.line = slices.DeleteFunc(h.line, func(x *procClient) bool { return x == cl })
	d.clients--
	d.mu.Unlock()
}

// end takes no more clients and sends the ones in line away: refused
// with why when the host could not attach, else with their connections
// closed. Observers' goroutines do that for their own clients.
func (h *procHost) end(why error) {
	d := h.d
	d.mu.Lock()
	h.ending = true
	if d.hosts[h.pid] == h {
		delete(d.hosts, h.pid)
	}
	var orphans []*procClient
	for _, cl := range h.line {
		switch {
		case cl.state != observing:
			orphans = append(orphans, cl)
		case why == nil:
			cl.a.l.Close()
		}
	}
	h.line = slices.DeleteFunc(h.line, func(cl *procClient) bool { return cl.state != observing })
	d.clients -= len(orphans)
	d.mu.Unlock()
	// Nobody serves these: the loop never took them, or took them back.
	for _, cl := range orphans {
		if why != nil {
			d.refuse(cl.conn, why)
		}
		cl.a.l.release()
	}
}

// config is the configuration of cl's session.
func (h *procHost) config(cl *procClient) rsp.Config {
	cfg := h.d.base
	// Attached: a client's detach lets the process run on, and gdb's
	// quit never kills it.
	cfg.Attached = func(int) bool { return true }
	cfg.Monitor = h.monitor(cl)
	cfg.Files = clientFiles(h.d.files, cl.conn)
	return cfg
}

// daemonMonitorHelp lists the daemon's monitor commands.
const daemonMonitorHelp = `procgdb --proc-dir's monitor commands:
  help                        this list
  info                        version, debug registers, ptrace limits, this
                              process, its threads and its clients
procgdb --proc-dir serves every user's processes: it is stopped as a
service is, and its logs are set on its command line.
`

// monitor runs cl's monitor commands.
func (h *procHost) monitor(cl *procClient) rsp.MonitorFunc {
	return daemonMonitor(func(out io.Writer) { h.info(cl, out) })
}

// daemonMonitor runs a daemon's client's monitor commands: help, and an
// info that shows what info says (the client's own processes, and its
// fellow clients). exit and set are gdbserver's commands for a stub its
// user started; a client of the daemon must not stop it or change its
// logs, which other users' sessions share.
func daemonMonitor(info func(io.Writer)) rsp.MonitorFunc {
	return func(cmd string, out io.Writer) (func(), error) {
		f := strings.Fields(cmd)
		switch {
		case len(f) == 0 || len(f) == 1 && f[0] == "help":
			io.WriteString(out, daemonMonitorHelp)
		case len(f) == 1 && f[0] == "info":
			info(out)
		case f[0] == "exit" || f[0] == "set":
			fmt.Fprintf(out, "procgdb: %q is not for clients of procgdb --proc-dir, which serves every user's processes\n", cmd)
			return nil, errUnknownMonitor
		default:
			fmt.Fprintf(out, "procgdb: unknown monitor command %q; \"monitor help\" lists them\n", cmd)
			return nil, errUnknownMonitor
		}
		return nil, nil
	}
}

// info prints procgdb, this process and its clients in line, marking
// cl's place.
func (h *procHost) info(cl *procClient, out io.Writer) {
	d := h.d
	d.info(out)
	infoProcesses(out, h.tt, "through "+d.path+"/"+strconv.Itoa(h.pid))
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(out, "clients: %d\n", len(h.line))
	for i, x := range h.line {
		role := "observes"
		if i == 0 {
			role = "controls"
		}
		you := ""
		if x == cl {
			you = " (you)"
		}
		fmt.Fprintf(out, "  %d: %s %s%s\n", i+1, x.a.who, role, you)
	}
}

// info prints the lines of monitor info about procgdb itself.
func (d *daemon) info(out io.Writer) {
	d.srv.infoVersion(out)
	fmt.Fprintf(out, "directory: %s (processes found by %s)\n", d.path, d.following())
	d.srv.infoTracing(out)
}

// following says how the daemon learns of new processes.
func (d *daemon) following() string {
	if d.dir.Events() {
		return "process events"
	}
	return "scanning /proc"
}
