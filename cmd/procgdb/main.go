// Command procgdb is a gdb remote-serial-protocol stub for Linux x86-64
// processes, with gdbserver's command line: it starts a program (or
// attaches to a running process) and serves it to gdb over TCP, a unix
// socket or its own stdin and stdout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is procgdb without os.Exit, returning the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args)
	o.cmdline = args
	if err != nil {
		// The mistake in one line, which test boards and IDEs show as it
		// is, and the usage in another; status 1, as gdbserver's.
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(stderr, "procgdb: %s\n%s\n", msg, usageLine)
		return 1
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage)
		return 0
	case o.listDisable:
		fmt.Fprintf(stdout, "--disable-packet=LIST takes, separated by commas:\n%s", rsp.DisableNames)
		return 0
	case o.selftest:
		return runSelftest(stdout)
	case o.version:
		fmt.Fprintf(stdout, "procgdb %s\n", version())
		return 0
	case o.example:
		if err := runExample(stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "procgdb: example: %v\n", err)
			return 1
		}
		return 0
	}
	serve := serve
	if o.procDir != "" {
		serve = serveProcDir
	}
	if err := serve(o, stderr); err != nil {
		fmt.Fprintf(stderr, "procgdb: %v\n", err)
		return 1
	}
	return 0
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// serve starts or attaches to the process, then serves clients until the
// process is gone, a client detaches or kills it, or (with --once, or on
// stdio) the first client leaves. On the way out, a launched process is
// killed and an attached one detached, its breakpoints removed.
func serve(o options, stderr io.Writer) error {
	logs, err := newLogs(o, stderr)
	if err != nil {
		return err
	}
	defer logs.close()
	log := logs.log
	debugRegs := checkDebugRegisters(o, log)

	tp, err := openTransport(o.comm, func(msg string) { fmt.Fprintln(stderr, msg) })
	if err != nil {
		return err
	}
	defer tp.close()
	stdioMode := tp.single()

	// SIGTERM and SIGHUP end procgdb cleanly. SIGINT does too, except on
	// stdio, where it comes from gdb's terminal and is gdb's business
	// (gdb sends the interrupt byte over the pipe instead).
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGHUP}
	if stdioMode {
		signal.Ignore(syscall.SIGINT)
	} else {
		sigs = append(sigs, syscall.SIGINT)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()
	// monitor exit ends procgdb the same way.
	ctx, exit := context.WithCancel(ctx)
	defer exit()
	srv := &server{o: o, logs: logs, started: time.Now(), exit: exit}
	// A client gone from a pipe must not kill procgdb with SIGPIPE before
	// it has cleaned up: the write fails with EPIPE instead. (Notify, not
	// Ignore: an ignored SIGPIPE would be inherited by launched programs.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	layout, err := regs.HostLayout()
	if err != nil {
		return err
	}
	files, err := fileSystems(o)
	if err != nil {
		return err
	}
	tr := target.NewTracer(layout, log)
	tt := srv.addTracee(&tracee{tr: tr, stderr: stderr, stdio: stdioMode, wrapper: o.wrapper})
	// Launching or attaching makes this goroutine the tracer's loop, for
	// good: it serves every session on this tracer, and closes it.
	c := tt.c()
	defer func() {
		if err := c.Close(); err != nil {
			log.Warn("clean-up", "err", err)
		}
		srv.dropTracee(tt)
	}()
	if !stdioMode && isTerminal(os.Stdin) {
		// Programs take the terminal; take it back on the way out.
		defer restoreForeground()
	}

	var pid int
	switch {
	case o.attach:
		pid = o.pid
		err = tt.attach(pid)
	case !o.multi:
		pid, err = tt.launch(rsp.LaunchSpec{Program: o.prog, Args: o.args, DisableASLR: !o.keepASLR})
	}
	if err != nil {
		return err
	}
	// Before any client can ask for a watchpoint.
	srv.debugRegs = debugRegs()
	c.SetDebugRegisters(srv.debugRegs.use)
	srv.comm = o.comm + " (stdin and stdout)"
	if line := tp.ready(); line != "" {
		srv.comm = o.comm + " (" + line + ")"
		fmt.Fprintln(stderr, line)
	}

	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	cfg := rsp.Config{
		Logger:             log,
		WireLog:            logs.wire,
		Monitor:            srv.monitor,
		TargetXML:          layout.TargetXML(),
		Files:              files,
		Shell:              shell,
		NoStartupWithShell: o.noShell,
		Program:            o.prog,
		Args:               o.args,
		Disable:            o.disable,
	}
	if o.multi && !o.once && !stdioMode {
		maxClients := o.maxClients
		if maxClients == 0 {
			maxClients = defaultMaxClients
		}
		m := &multi{srv: srv, cfg: cfg, layout: layout, stderr: stderr, tp: tp, maxClients: maxClients, wrapper: o.wrapper}
		return m.serve(ctx)
	}
	for {
		a, ok, err := acceptParked(ctx, tp, tt)
		if err != nil {
			if ctx.Err() != nil {
				return nil // asked to stop: the deferred Close cleans up
			}
			return err
		}
		if !ok {
			return nil // the processes ended before a client came
		}
		fmt.Fprintln(stderr, a.who)
		outcome, _ := serveOn(ctx, tt, a, cfg, srv)
		if ctx.Err() != nil || o.once || stdioMode {
			return nil
		}
		if !o.multi {
			switch outcome {
			case rsp.OutcomeDetached:
				fmt.Fprintf(stderr, "Detaching from process %d\n", pid)
				return nil
			case rsp.OutcomeKilled, rsp.OutcomeExited:
				return nil
			}
			if len(c.Processes()) == 0 {
				return nil
			}
		}
		// The client left without a word: leave its processes stopped
		// where they are and clean for the next client, as gdbserver does.
		if err := quiesce(ctx, c, log); err != nil {
			return err
		}
		if !o.multi && len(c.Processes()) == 0 {
			return nil
		}
		fmt.Fprintln(stderr, "Remote side has terminated connection.  procgdb will reopen the connection.")
		if line := tp.ready(); line != "" {
			fmt.Fprintln(stderr, line)
		}
	}
}

// acceptParked waits for the next client while tt's tracer watches its
// processes (on this goroutine, the tracer's). It returns no client, and
// no error, when the last process ended before a client came: a server
// without --multi has nothing left to serve. A tracer that never started
// (--multi with no program) just waits for the client.
func acceptParked(ctx context.Context, tp transport, tt *tracee) (accepted, bool, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan accepted, 1)
	errc := make(chan error, 1)
	go func() {
		a, err := tp.accept(actx)
		if err != nil {
			errc <- err
		} else {
			next <- a
		}
		cancel() // ends the park
	}()
	if !tt.tr.Started() {
		select {
		case a := <-next:
			return a, true, nil
		case err := <-errc:
			return accepted{}, false, err
		}
	}
	a, ok, err := parkUntil(ctx, tt, next, actx)
	if ok {
		return a, true, nil
	}
	// The last process ended, or ctx is done: no client now.
	cancel()
	select {
	case a := <-next:
		a.l.release()
	case aerr := <-errc:
		if err == nil && ctx.Err() == nil && !errors.Is(aerr, context.Canceled) {
			err = aerr
		}
	}
	return accepted{}, false, err
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// restoreForeground gives the terminal back to procgdb's process group
// after a program that was in the foreground.
func restoreForeground() {
	signal.Ignore(syscall.SIGTTOU)
	unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, unix.Getpgrp())
}
