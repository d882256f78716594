package main

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// tracee lets an RSP session drive a target.Tracer: it converts between
// the protocol's vocabulary (rsp) and the Linux one (target), which do
// not know each other, and prints gdbserver's line when a process ends.
type tracee struct {
	tr     *target.Tracer
	stderr io.Writer
}

var _ rsp.Target = (*tracee)(nil)

func (t *tracee) Processes() []int               { return t.tr.Processes() }
func (t *tracee) Threads(pid int) ([]int, error) { return t.tr.Threads(pid) }

func (t *tracee) Registers(id rsp.ThreadID, ext bool) (*regs.Set, error) {
	return t.tr.Registers(id.PID, id.TID, ext)
}

func (t *tracee) SetRegisters(id rsp.ThreadID, s *regs.Set) error {
	return t.tr.SetRegisters(id.PID, id.TID, s)
}

func (t *tracee) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	return t.tr.ReadMemory(pid, addr, dst)
}

func (t *tracee) WriteMemory(pid int, addr uint64, src []byte) (int, error) {
	return t.tr.WriteMemory(pid, addr, src)
}

func (t *tracee) InsertBreakpoint(pid int, addr uint64) error {
	return t.tr.InsertBreakpoint(pid, addr)
}

func (t *tracee) RemoveBreakpoint(pid int, addr uint64) error {
	return t.tr.RemoveBreakpoint(pid, addr)
}

func (t *tracee) Resume(actions []rsp.ResumeAction) error {
	as := make([]target.Action, len(actions))
	for i, a := range actions {
		kind := target.ActionContinue
		if a.Kind == rsp.Step {
			kind = target.ActionStep
		}
		// rsp.AllThreads and target.All are both -1, rsp.AnyThread and a
		// zero id both mean any.
		as[i] = target.Action{Kind: kind, Signal: a.Signal, PID: a.PID, TID: a.TID}
	}
	return t.tr.Resume(as)
}

func (t *tracee) Wait(ctx context.Context) (rsp.StopEvent, error) {
	ev, err := t.tr.Wait(ctx)
	if err != nil {
		return rsp.StopEvent{}, err
	}
	out := rsp.StopEvent{PID: ev.PID, TID: ev.TID, Signal: ev.Signal, ExitCode: ev.ExitCode}
	switch ev.Kind {
	case target.EventSignal:
		out.Kind = rsp.StopSignal
	case target.EventBreakpoint:
		out.Kind = rsp.StopBreakpoint
	case target.EventStep:
		out.Kind = rsp.StopStep
	case target.EventExited:
		out.Kind = rsp.StopExited
		fmt.Fprintf(t.stderr, "\nChild exited with status %d\n", ev.ExitCode)
	case target.EventKilled:
		out.Kind = rsp.StopKilled
		fmt.Fprintf(t.stderr, "\nChild terminated with signal = %d (%s)\n", ev.Signal, unix.SignalName(unix.Signal(ev.Signal)))
	default:
		return rsp.StopEvent{}, fmt.Errorf("unexpected event %v", ev.Kind)
	}
	return out, nil
}

func (t *tracee) Interrupt() error       { return t.tr.Interrupt() }
func (t *tracee) Kill(pid int) error     { return t.tr.Kill(pid) }
func (t *tracee) Detach(pid int) error   { return t.tr.Detach(pid) }
func (t *tracee) SetPassSignals(s []int) { t.tr.SetPassSignals(s) }

func (t *tracee) Auxv(pid int) ([]byte, error)     { return t.tr.Auxv(pid) }
func (t *tracee) ExecFile(pid int) (string, error) { return t.tr.ExecFile(pid) }

func (t *tracee) Libraries(pid int) (uint64, []rsp.Library, error) {
	main, libs, err := t.tr.Libraries(pid)
	out := make([]rsp.Library, len(libs))
	for i, l := range libs {
		out[i] = rsp.Library{Name: l.Name, LM: l.LM, Addr: l.Addr, LD: l.LD}
	}
	return main, out, err
}

func (t *tracee) Siginfo(id rsp.ThreadID) ([]byte, error) { return t.tr.Siginfo(id.PID, id.TID) }

func (t *tracee) ThreadInfo(id rsp.ThreadID) (string, int, bool) {
	return t.tr.ThreadInfo(id.PID, id.TID)
}
