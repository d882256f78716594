package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"procgdb/rsp"
)

// usageLine is the line procgdb prints under a command-line mistake.
const usageLine = "Usage: procgdb [OPTIONS] COMM PROG [ARGS...] | [OPTIONS] --attach COMM PID | [OPTIONS] --multi COMM | [OPTIONS] --proc-dir DIR (procgdb --help lists the options)"

const usage = `Usage:
  procgdb [OPTIONS] COMM PROG [ARGS...]   start PROG stopped and serve it
  procgdb [OPTIONS] --attach COMM PID     attach to process PID and serve it
  procgdb [OPTIONS] --multi COMM          serve extended-remote clients, no process yet
  procgdb [OPTIONS] --proc-dir DIR        a socket DIR/PID for every process, through
                                          which its owner debugs it
  procgdb --example                       debug a small C program with gdb, end to end
  procgdb --selftest                      run procgdb's own checks

COMM is HOST:PORT, :PORT (loopback only), unix:PATH, or - or stdio
(stdin/stdout). HOST may be an IPv6 address, bare (::1:PORT) or in
brackets ([::1]:PORT), and COMM may start with tcp:, tcp4: (IPv4 only) or
tcp6: (IPv6 only). :0 picks a free port. Every interface (0.0.0.0:PORT,
[::]:PORT) must be asked for explicitly: RSP has no authentication.
PROG without a slash is the file of that name in the current directory
if there is one, else a program in $PATH.

Options:
  --once                       serve one connection, then exit
  --multi                      start with no process; clients run and attach
                               (target extended-remote) and the server outlives them
  --max-clients=N              with --multi or --proc-dir, serve at most N
                               clients at once (default 64); more are refused
  --attach                     attach to PID instead of starting PROG
  --wrapper WRAPPER --         start programs under WRAPPER (such as env VAR=1),
                               which must exec them
  --startup-with-shell         start the programs clients run through $SHELL (default)
  --no-startup-with-shell      start them directly
  --disable-randomization      run programs without address randomization (default)
  --no-disable-randomization   run programs with address randomization
  --debug                      structured logs on stderr
  --remote-debug               log every packet in and out
  --debug-file=FILE            write logs to FILE instead of stderr
  --debug-format=all|none|timestamp
                               log lines with the time (all, timestamp: the
                               default) or without it (none); a list is allowed
  --event-loop-debug           accepted for gdbserver's command lines; --debug
                               logs procgdb's event loop
  --disable-packet=LIST        leave out parts of the protocol, as gdbserver does:
                               vCont, T, Tthread, qC, qfThreadInfo, threads
                               (--disable-packet alone describes them)
  --vfile-root=DIR             confine the client's file access (gdb's target:
                               sysroot, remote get/put/delete) to the tree DIR
  --no-vfile-write             refuse the client's file writes and deletions
  --no-debug-registers         use no debug registers: watch is emulated by
                               single-stepping, hbreak and awatch refused
                               (the default where their traps never arrive)
  --selftest                   run procgdb's own checks, say how many passed
  --version                    print the version and exit
  --help                       print this help and exit
`

// options is the parsed command line, in gdbserver's conventions.
type options struct {
	comm        string
	prog        string
	args        []string // PROG's arguments, after PROG
	attach      bool
	pid         int
	once        bool
	multi       bool
	noShell     bool
	keepASLR    bool
	debug       bool
	remoteDebug bool
	debugFile   string
	vfileRoot   string       // --vfile-root: confine host I/O to this tree
	vfileRO     bool         // --no-vfile-write: host I/O is read-only
	maxClients  int          // --max-clients: 0 for defaultMaxClients
	procDir     string       // --proc-dir: serve a socket DIR/PID per process
	noDebugRegs bool         // --no-debug-registers
	wrapper     []string     // --wrapper WRAPPER --
	disable     rsp.Disabled // --disable-packet=LIST
	// listDisable: --disable-packet without a list describes the names.
	listDisable bool
	// noTimestamps: log lines without the time (--debug-format=none).
	noTimestamps bool
	// cmdline is the whole command line, for monitor info.
	cmdline  []string
	version  bool
	help     bool
	example  bool
	selftest bool
}

// errUsage marks command-line mistakes: exit status 1, as gdbserver's.
var errUsage = errors.New("usage")

func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
}

// procDirOptions checks what goes with --proc-dir: no COMM nor program
// (clients connect to DIR/PID), and none of the options that choose what
// to serve another way.
func procDirOptions(o options, rest []string) error {
	switch {
	case len(rest) > 0:
		return usageError("--proc-dir takes no COMM or program (%s): clients connect to DIR/PID", rest[0])
	case o.multi, o.attach, o.once:
		return usageError("--proc-dir serves every process through its own socket: it goes with none of --multi, --attach and --once")
	case o.wrapper != nil:
		return usageError("--proc-dir starts programs as its clients' users, under no wrapper")
	}
	return nil
}

// parseOptions reads gdbserver-style arguments: options, COMM, then PROG
// and its arguments (which are not options of ours) or, with --attach
// before or just after COMM, a PID.
func parseOptions(args []string) (options, error) {
	var o options
	i := 0
	// next returns an option's value: the one after '=', or else the
	// next argument ("--vfile-root DIR", as one would type it); false
	// when there is none.
	next := func(val string, hasVal bool) (string, bool) {
		if hasVal {
			return val, true
		}
		if i+1 == len(args) {
			return "", false
		}
		i++
		return args[i], true
	}
	option := func(a string) error {
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--once":
			o.once = true
		case "--attach":
			o.attach = true
		case "--disable-randomization":
			o.keepASLR = false
		case "--no-disable-randomization":
			o.keepASLR = true
		case "--debug":
			o.debug = true
		case "--remote-debug":
			o.remoteDebug = true
		case "--debug-file":
			if !hasVal || val == "" {
				return usageError("--debug-file needs =FILE")
			}
			o.debugFile = val
			return nil
		case "--vfile-root":
			val, ok := next(val, hasVal)
			if !ok || val == "" {
				return usageError("--vfile-root needs a directory")
			}
			o.vfileRoot = val
			return nil
		case "--proc-dir":
			val, ok := next(val, hasVal)
			if !ok || val == "" {
				return usageError("--proc-dir needs a directory")
			}
			o.procDir = val
			return nil
		case "--max-clients":
			val, ok := next(val, hasVal)
			if !ok {
				return usageError("--max-clients needs a number")
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return usageError("--max-clients: %q is not a number of clients", val)
			}
			o.maxClients = n
			return nil
		case "--no-vfile-write":
			o.vfileRO = true
		case "--no-debug-registers":
			o.noDebugRegs = true
		case "--wrapper":
			// Everything up to "--" is the wrapper's command line.
			end := slices.Index(args[i+1:], "--")
			if hasVal || end <= 0 {
				return usageError("--wrapper needs a command and then --, as in --wrapper env VAR=1 --")
			}
			o.wrapper = args[i+1 : i+1+end]
			i += end + 1
			return nil
		case "--disable-packet":
			if !hasVal {
				o.listDisable = true
				return nil
			}
			d, err := rsp.ParseDisabled(val)
			if err != nil {
				return usageError("--disable-packet: %v", err)
			}
			o.disable = d
			return nil
		case "--debug-format":
			if !hasVal {
				return usageError("--debug-format needs =all, =none or =timestamp")
			}
			on, err := parseDebugFormat(val)
			if err != nil {
				return usageError("--%v", err)
			}
			o.noTimestamps = !on
			return nil
		case "--event-loop-debug":
			// gdbserver's; procgdb's event loop logs with --debug.
		case "--selftest":
			o.selftest = true
		case "--version":
			o.version = true
		case "--help", "-h":
			o.help = true
		case "--example":
			o.example = true
		case "--multi":
			o.multi = true
		case "--no-startup-with-shell":
			o.noShell = true
		case "--startup-with-shell":
			o.noShell = false
		default:
			return usageError("unknown option %s", a)
		}
		if hasVal {
			return usageError("option %s takes no value", name)
		}
		return nil
	}
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-"; i++ {
		if args[i] == "--" {
			i++
			break
		}
		if err := option(args[i]); err != nil {
			return o, err
		}
	}
	if o.version || o.help || o.example || o.selftest || o.listDisable {
		return o, nil
	}
	if o.procDir != "" {
		return o, procDirOptions(o, args[i:])
	}
	if i == len(args) {
		return o, usageError("missing COMM (such as :1234) and program")
	}
	o.comm = args[i]
	i++
	if i < len(args) && args[i] == "--attach" {
		o.attach = true
		i++
	}
	rest := args[i:]
	if o.multi && o.attach {
		return o, usageError("--multi and --attach do not go together: attach from the client")
	}
	if o.multi {
		// gdbserver accepts a program after --multi too: it is what the
		// client's first run starts.
		if len(rest) > 0 {
			o.prog, o.args = rest[0], rest[1:]
		}
		return o, nil
	}
	if o.attach {
		if len(rest) != 1 {
			return o, usageError("--attach needs exactly one PID after COMM")
		}
		pid, err := strconv.Atoi(rest[0])
		if err != nil || pid <= 0 {
			return o, usageError("--attach: %q is not a process id", rest[0])
		}
		o.pid = pid
		return o, nil
	}
	if len(rest) == 0 {
		return o, usageError("missing program to run after COMM %s", o.comm)
	}
	o.prog, o.args = rest[0], rest[1:]
	return o, nil
}
