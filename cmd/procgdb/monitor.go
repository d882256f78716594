package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"procgdb/target"
)

// server is what procgdb's monitor commands (gdb's `monitor CMD`) know of
// the running procgdb, and what they change: gdbserver's set (help, exit,
// set debug, set remote-debug, set debug-format) and procgdb's own info.
type server struct {
	o         options
	logs      *logs
	comm      string // COMM, and the line that says it is ready
	debugRegs debugRegs
	started   time.Time
	// exit ends procgdb as SIGTERM does: launched programs are killed,
	// attached ones detached, breakpoints removed.
	exit func()

	mu      sync.Mutex
	clients []*client // connected clients, oldest first
	tracees []*tracee // tracers not closed, first made first
}

// client is a connected client.
type client struct {
	who   string // gdbserver's line about it
	since time.Time
	tt    *tracee // the tracer that serves it
}

// connected records a client served by tt; the returned function forgets
// it when its session ends.
func (s *server) connected(who string, tt *tracee) (forget func()) {
	c := &client{who: who, since: time.Now(), tt: tt}
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.clients = slices.DeleteFunc(s.clients, func(x *client) bool { return x == c })
		s.mu.Unlock()
	}
}

// addTracee records a tracer, whose processes info lists until it is
// closed.
func (s *server) addTracee(tt *tracee) *tracee {
	s.mu.Lock()
	s.tracees = append(s.tracees, tt)
	s.mu.Unlock()
	return tt
}

// dropTracee forgets a tracer that is closed, so that clients that come
// and go do not grow the list.
func (s *server) dropTracee(tt *tracee) {
	s.mu.Lock()
	s.tracees = slices.DeleteFunc(s.tracees, func(x *tracee) bool { return x == tt })
	s.mu.Unlock()
}

// monitorHelp lists the commands; monitor help prints it.
const monitorHelp = `procgdb's monitor commands:
  help                        this list
  info                        version, transport, options, debug registers,
                              ptrace limits, clients, processes and threads
  exit                        end procgdb, as SIGTERM does: programs it
                              started are killed, attached ones let go
  set debug 0|1               the debug log (--debug) off or on
  set remote-debug 0|1        the packet log (--remote-debug) off or on
  set debug-format all|none|timestamp
                              log lines with the time (all, timestamp) or
                              without it (none)
`

// errUnknownMonitor is the error reply to an unknown monitor command.
var errUnknownMonitor = errors.New("unknown monitor command")

// monitor runs one monitor command (rsp.MonitorFunc).
func (s *server) monitor(cmd string, out io.Writer) (func(), error) {
	f := strings.Fields(cmd)
	switch {
	case len(f) == 0 || len(f) == 1 && f[0] == "help":
		io.WriteString(out, monitorHelp)
	case len(f) == 1 && f[0] == "exit":
		return s.exit, nil
	case len(f) == 1 && f[0] == "info":
		s.info(out)
	case len(f) == 3 && f[0] == "set":
		return nil, s.set(f[1], f[2], out)
	default:
		fmt.Fprintf(out, "procgdb: unknown monitor command %q; \"monitor help\" lists them\n", cmd)
		return nil, errUnknownMonitor
	}
	return nil, nil
}

// set runs `set NAME VALUE`.
func (s *server) set(name, value string, out io.Writer) error {
	var (
		set   func(bool)
		label string
	)
	switch name {
	case "debug":
		set, label = s.logs.setDebug, "Debug log"
	case "remote-debug":
		set, label = s.logs.setRemoteDebug, "Packet log"
	case "debug-format":
		on, err := parseDebugFormat(value)
		if err != nil {
			fmt.Fprintf(out, "procgdb: %v\n", err)
			return err
		}
		s.logs.timestamps.Store(on)
		fmt.Fprintf(out, "Log lines with timestamps: %s.\n", onOff(on))
		return nil
	default:
		fmt.Fprintf(out, "procgdb: unknown setting %q; \"monitor help\" lists them\n", name)
		return errUnknownMonitor
	}
	on, err := parseSwitch(value)
	if err != nil {
		fmt.Fprintf(out, "procgdb: set %s: %v\n", name, err)
		return err
	}
	set(on)
	fmt.Fprintf(out, "%s: %s.\n", label, onOff(on))
	return nil
}

// parseSwitch reads 0 or 1 (gdbserver's), or off or on.
func parseSwitch(v string) (bool, error) {
	switch v {
	case "1", "on":
		return true, nil
	case "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q: want 0 or 1", v)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// info prints what procgdb serves and how.
func (s *server) info(out io.Writer) {
	s.infoVersion(out)
	fmt.Fprintf(out, "command line: procgdb %s\n", strings.Join(s.o.cmdline, " "))
	fmt.Fprintf(out, "transport: %s\n", s.comm)
	fmt.Fprintf(out, "mode: %s\n", s.mode())
	fmt.Fprintf(out, "logs: debug %s, packets %s, timestamps %s\n",
		onOff(s.logs.debugging()), onOff(s.logs.packetLogging()), onOff(s.logs.timestamps.Load()))
	s.infoTracing(out)

	s.mu.Lock()
	clients := slices.Clone(s.clients)
	tracees := slices.Clone(s.tracees)
	s.mu.Unlock()

	fmt.Fprintf(out, "clients: %d\n", len(clients))
	for i, c := range clients {
		fmt.Fprintf(out, "  %d: %s, for %v\n", i+1, c.who, time.Since(c.since).Round(time.Second))
	}
	for _, tt := range tracees {
		owner := "no client"
		if i := slices.IndexFunc(clients, func(c *client) bool { return c.tt == tt }); i >= 0 {
			owner = fmt.Sprintf("client %d", i+1)
		}
		infoProcesses(out, tt, owner)
	}
}

// infoVersion prints the line that says which procgdb this is.
func (s *server) infoVersion(out io.Writer) {
	fmt.Fprintf(out, "procgdb %s (%s), pid %d, up %v\n", version(), runtime.Version(), os.Getpid(), time.Since(s.started).Round(time.Second))
}

// infoTracing prints what limits tracing here: the debug registers and
// ptrace's restrictions.
func (s *server) infoTracing(out io.Writer) {
	if s.debugRegs.use {
		fmt.Fprintf(out, "debug registers: in use (%s)\n", s.debugRegs.reason)
	} else {
		fmt.Fprintf(out, "debug registers: not in use (%s): write watchpoints are emulated by single-stepping, hardware breakpoints and access watchpoints refused\n", s.debugRegs.reason)
	}
	fmt.Fprintf(out, "ptrace: %s\n", target.PtraceRestrictions())
}

// infoProcesses prints tt's processes, with their threads; owner says
// who drives them.
func infoProcesses(out io.Writer, tt *tracee, owner string) {
	for _, p := range tt.tr.Report() {
		how := "started"
		if p.Attached {
			how = "attached"
		}
		fmt.Fprintf(out, "process %d (%s, %s): %s\n", p.PID, how, owner, p.Exe)
		for _, th := range p.Threads {
			run := "stopped"
			if th.Running {
				run = "running"
			}
			fmt.Fprintf(out, "  thread %d %q: %s (%s)\n", th.TID, th.Name, run, th.State)
		}
	}
}

// mode says how procgdb serves, from its options.
func (s *server) mode() string {
	var m []string
	switch {
	case s.o.multi:
		m = append(m, "extended-remote server (--multi)")
	case s.o.attach:
		m = append(m, fmt.Sprintf("attached to process %d", s.o.pid))
	default:
		m = append(m, "serving the program it started")
	}
	if s.o.once {
		m = append(m, "one client (--once)")
	}
	if s.o.noShell {
		m = append(m, "programs started without a shell")
	} else {
		m = append(m, "programs started through $SHELL")
	}
	if s.o.keepASLR {
		m = append(m, "address randomization on")
	} else {
		m = append(m, "address randomization off")
	}
	switch {
	case s.o.vfileRoot != "":
		m = append(m, "host I/O confined to "+s.o.vfileRoot)
	default:
		m = append(m, "host I/O anywhere")
	}
	if s.o.vfileRO {
		m = append(m, "read-only")
	}
	return strings.Join(m, ", ")
}
