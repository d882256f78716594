package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// tracee lets an RSP session drive a target.Tracer, on the tracer's
// goroutine: rsp and target do not know each other, but speak the same
// vocabulary (package inferior), so it mostly passes calls on; it starts
// programs with procgdb's terminal and options, and prints gdbserver's
// lines when a process starts or ends.
type tracee struct {
	tr *target.Tracer
	// link is the connection of the session the tracee serves, whose
	// bytes end WaitStop.
	link   *link
	stderr io.Writer
	// stdio says the protocol runs on procgdb's stdin and stdout, which
	// programs must then keep off.
	stdio bool
	// wrapper starts programs (--wrapper).
	wrapper []string
	// osTable, when set, says which tables of `info os` the client sees
	// (all when nil).
	osTable func(typ string) bool
}

var (
	_ rsp.Target         = (*tracee)(nil)
	_ rsp.Launcher       = launcher{}
	_ rsp.EventTarget    = (*tracee)(nil)
	_ rsp.ThreadOptioner = (*tracee)(nil)
	_ rsp.RangeReader    = (*tracee)(nil)
	_ rsp.CoreReader     = (*tracee)(nil)
	_ rsp.SiginfoWriter  = (*tracee)(nil)
	// gdb's breakpoint conditions and commands are run by the tracer.
	_ rsp.CondBreakpointer = (*tracee)(nil)
	_ rsp.NonStopper       = (*tracee)(nil)
	_ rsp.CmdBreakpointer  = (*tracee)(nil)
)

// launcher is a tracee whose client starts programs and attaches to
// processes (rsp.Launcher: vRun, vAttach and R) with procgdb's own
// rights: the tracer of procgdb's command line, and --multi's. A tracee
// alone is no Launcher: the daemon's (--proc-dir) debug the process
// their socket names, or start programs with their client's rights.
type launcher struct{ *tracee }

func (l launcher) Launch(spec rsp.LaunchSpec) (int, error) { return l.launch(spec) }
func (l launcher) Attach(pid int) error                    { return l.attach(pid) }

// launch starts a program stopped at its first instruction, on procgdb's
// terminal, and prints gdbserver's lines about it: the program created,
// or how it ended during startup (as when a shell could not run it).
func (t *tracee) launch(spec rsp.LaunchSpec) (int, error) {
	lo := launchOptions(spec)
	lo.Stdin, lo.Stdout, lo.Stderr = os.Stdin, os.Stdout, os.Stderr
	lo.Wrapper = t.wrapper
	if t.stdio {
		// stdin and stdout carry the protocol: the program gets neither.
		lo.Stdin, lo.Stdout = nil, os.Stderr
	} else if isTerminal(os.Stdin) {
		lo.Foreground = true
	}
	return t.start(lo)
}

// launchOptions are how a client's program starts, without a terminal.
func launchOptions(spec rsp.LaunchSpec) target.LaunchOptions {
	prog := target.ProgramPath(spec.Program)
	return target.LaunchOptions{
		Path:        prog,
		Args:        append([]string{prog}, spec.Args...),
		Env:         spec.Env,
		Dir:         spec.Dir,
		DisableASLR: spec.DisableASLR,
		Shell:       spec.Shell,
	}
}

// start starts the program lo says and prints gdbserver's lines about
// it.
func (t *tracee) start(lo target.LaunchOptions) (int, error) {
	prog := lo.Path
	pid, err := t.c().Launch(lo)
	if se, ok := errors.AsType[*target.StartupExitError](err); ok {
		if se.Signal != 0 {
			fmt.Fprintf(t.stderr, "During startup program terminated with signal %s.\n", unix.SignalName(se.Signal))
		} else {
			fmt.Fprintf(t.stderr, "During startup program exited with code %d.\n", se.Code)
		}
	}
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(t.stderr, "Process %s created; pid = %d\n", prog, pid)
	return pid, nil
}

// attach attaches to process pid and prints gdbserver's line about it.
func (t *tracee) attach(pid int) error {
	if err := t.c().Attach(pid); err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "Attached; pid = %d\n", pid)
	return nil
}

// SetEventOptions passes the client's choice of events on.
func (t *tracee) SetEventOptions(o inferior.EventOptions) { t.c().SetEventOptions(o) }

// SetThreadOptions passes the client's choice of events for one thread
// on.
func (t *tracee) SetThreadOptions(id inferior.ThreadID, o inferior.ThreadOptions) error {
	return t.c().SetThreadOptions(id.PID, id.TID, o)
}

func (t *tracee) Processes() []int               { return t.c().Processes() }
func (t *tracee) Threads(pid int) ([]int, error) { return t.c().Threads(pid) }

func (t *tracee) Registers(id inferior.ThreadID, ext bool) (*regs.Set, error) {
	return t.c().Registers(id.PID, id.TID, ext)
}

func (t *tracee) SetRegisters(id inferior.ThreadID, s *regs.Set) error {
	return t.c().SetRegisters(id.PID, id.TID, s)
}

func (t *tracee) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	return t.c().ReadMemory(pid, addr, dst)
}

// ReadRanges makes the tracee an rsp.RangeReader: lldb's MultiMemRead
// becomes one process_vm_readv.
func (t *tracee) ReadRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error) {
	rs := make([]inferior.Range, len(ranges))
	for i, r := range ranges {
		rs[i] = inferior.Range{Addr: r.Addr, Len: r.Len}
	}
	return t.c().ReadRanges(pid, rs, dst)
}

func (t *tracee) WriteMemory(pid int, addr uint64, src []byte) (int, error) {
	return t.c().WriteMemory(pid, addr, src)
}

func (t *tracee) InsertBreakpoint(pid int, addr uint64) error {
	return t.c().InsertBreakpoint(pid, addr)
}

func (t *tracee) RemoveBreakpoint(pid int, addr uint64) error {
	return t.c().RemoveBreakpoint(pid, addr)
}

// SetBreakpointConditions makes the tracee an rsp.CondBreakpointer: the
// tracer evaluates gdb's conditions itself.
func (t *tracee) SetBreakpointConditions(pid int, hardware bool, addr uint64, conds [][]byte) error {
	if hardware {
		return t.c().SetHWBreakpointConditions(pid, addr, conds)
	}
	return t.c().SetBreakpointConditions(pid, addr, conds)
}

// SetBreakpointCommands makes the tracee an rsp.CmdBreakpointer: the
// tracer runs gdb's agent-style dprintf itself, and prints its text on
// procgdb's standard output, as gdbserver does (standard error when the
// protocol runs on standard output).
func (t *tracee) SetBreakpointCommands(pid int, hardware bool, addr uint64, cmds [][]byte, persist bool) error {
	out := os.Stdout
	if t.stdio {
		out = os.Stderr
	}
	t.c().SetCommandOutput(out)
	if hardware {
		return t.c().SetHWBreakpointCommands(pid, addr, cmds, persist)
	}
	return t.c().SetBreakpointCommands(pid, addr, cmds, persist)
}

func (t *tracee) Resume(actions []inferior.Action) error { return t.c().Resume(actions) }

// c is the tracer's Ctl: the tracee is used on the tracer's goroutine.
func (t *tracee) c() *target.Ctl { return t.tr.Ctl() }

func (t *tracee) WaitStop(ctx context.Context) (inferior.Event, bool, error) {
	ev, stopped, err := t.c().WaitStop(ctx, t.link.input())
	if stopped {
		t.ended(ev)
	}
	return ev, stopped, err
}

func (t *tracee) SetNonStop(on bool) error          { return t.c().SetNonStop(on) }
func (t *tracee) Stop(id inferior.ThreadID) error   { return t.c().Stop(id) }
func (t *tracee) Stopped(id inferior.ThreadID) bool { return t.c().Stopped(id.PID, id.TID) }

func (t *tracee) NextStop() (inferior.Event, bool) {
	ev, ok := t.c().NextStop()
	if ok {
		t.ended(ev)
	}
	return ev, ok
}

// ended prints gdbserver's line about a process that exited or was
// killed, which tools read; other events print nothing.
func (t *tracee) ended(ev inferior.Event) {
	switch ev.Kind {
	case inferior.EventExited:
		fmt.Fprintf(t.stderr, "\nChild exited with status %d\n", ev.ExitCode)
	case inferior.EventKilled:
		fmt.Fprintf(t.stderr, "\nChild terminated with signal = 0x%x (%s)\n", ev.Signal, unix.SignalName(unix.Signal(ev.Signal)))
	}
}

// HWSupport asks the tracer, which may not use the debug registers
// (--no-debug-registers, or traps not delivered).
func (t *tracee) HWSupport(kind inferior.HWKind) bool { return t.c().HWSupport(kind) }

func (t *tracee) HWSlots() int { return breakpoint.HWSlots }

func (t *tracee) InsertHWPoint(pid int, p inferior.HWPoint) error {
	return t.c().InsertHWPoint(pid, p)
}

func (t *tracee) RemoveHWPoint(pid int, p inferior.HWPoint) error {
	return t.c().RemoveHWPoint(pid, p)
}

func (t *tracee) Interrupt() error       { return t.c().Interrupt() }
func (t *tracee) Kill(pid int) error     { return t.c().Kill(pid) }
func (t *tracee) Detach(pid int) error   { return t.c().Detach(pid) }
func (t *tracee) SetPassSignals(s []int) { t.c().SetPassSignals(s) }

func (t *tracee) Auxv(pid int) ([]byte, error)     { return t.c().Auxv(pid) }
func (t *tracee) ExecFile(pid int) (string, error) { return t.c().ExecFile(pid) }

func (t *tracee) Libraries(pid int) (uint64, []inferior.Library, error) {
	main, libs, err := t.c().Libraries(pid)
	out := make([]inferior.Library, len(libs))
	for i, l := range libs {
		out[i] = inferior.Library{Name: l.Name, LM: l.LM, Addr: l.Addr, LD: l.LD}
	}
	return main, out, err
}

func (t *tracee) Siginfo(id inferior.ThreadID) ([]byte, error) { return t.c().Siginfo(id.PID, id.TID) }

// SetSiginfo makes the tracee an rsp.SiginfoWriter: gdb's writes to
// $_siginfo reach the program's handler.
func (t *tracee) SetSiginfo(id inferior.ThreadID, info []byte) error {
	return t.c().SetSiginfo(id.PID, id.TID, info)
}

// ThreadCore makes the tracee an rsp.CoreReader: the core: of every stop
// reply costs one pread.
func (t *tracee) ThreadCore(id inferior.ThreadID) (int, bool) {
	return t.c().ThreadCore(id.PID, id.TID)
}

func (t *tracee) ThreadInfo(id inferior.ThreadID) (string, int, bool) {
	return t.c().ThreadInfo(id.PID, id.TID)
}

var _ rsp.TLSLocator = (*tracee)(nil)

// TLSAddress makes the tracee an rsp.TLSLocator: gdb's thread-local
// variables (qGetTLSAddr).
func (t *tracee) TLSAddress(id inferior.ThreadID, offset, lm uint64) (uint64, error) {
	return t.c().TLSAddress(id.PID, id.TID, lm, offset)
}

var _ rsp.OSDataSource = (*tracee)(nil)

// OSDataTypes and OSData make the tracee an rsp.OSDataSource: gdb's
// `info os`, from this machine's /proc.
func (t *tracee) OSDataTypes() []rsp.OSDataType {
	var types []rsp.OSDataType
	for _, d := range target.OSDataTypes() {
		if t.osTable == nil || t.osTable(d.Type) {
			types = append(types, rsp.OSDataType{Type: d.Type, Title: d.Title, Description: d.Description})
		}
	}
	return types
}

func (t *tracee) OSData(typ string, item func(columns, values []string) bool) error {
	if t.osTable != nil && !t.osTable(typ) {
		return fmt.Errorf("info os %s: not offered", typ)
	}
	return target.OSData(typ, item)
}
