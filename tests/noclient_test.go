//go:build linux

package tests

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// killedRE is gdbserver's line for a process killed with SIGKILL.
const killedRE = `^Child terminated with signal = 0x9 \(SIGKILL\)$`

// TestKilledWithoutClient: a process killed from outside while no client
// is connected (before the first one, or between two) dies at once and is
// reaped, as it would be with a client connected, instead of staying in
// its exit stop until procgdb exits. procgdb says so with gdbserver's
// line; without --multi it then has nothing left to serve and exits,
// with --multi it goes on serving.
func TestKilledWithoutClient(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "reaping a process killed while no client is connected")
	canAttach(t)

	t.Run("--once --attach, before the first client", func(t *testing.T) {
		prepare(t)
		p := startWaiting(t, checksumRounds)
		s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("checksum"), once: true})
		killAndReap(t, p)
		s.waitStderr(killedRE)
		if err := s.waitExit(exitTimeout); err != nil {
			t.Errorf("procgdb exited with %v, want 0", err)
		}
	})

	t.Run("launched, between two clients", func(t *testing.T) {
		prepare(t)
		s := startStub(t, stubOptions{prog: prog("checksum"), args: []string{"1", "wait"}})
		tr := s.gdb("break work_round", "set var go = 1", "continue", "disconnect")
		tr.match("continue", `Breakpoint 1, work_round \(round=0\)`)
		s.waitStderr(`^Remote side has terminated connection`)
		if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.waitStderr(killedRE)
		if err := s.waitExit(exitTimeout); err != nil {
			t.Errorf("procgdb exited with %v, want 0", err)
		}
		if !processGone(s.pid) {
			t.Errorf("process %d is still there: %s", s.pid, procState(s.pid))
		}
	})

	t.Run("--multi, left by its client", func(t *testing.T) {
		prepare(t)
		p := startWaiting(t, checksumRounds)
		s := startMulti(t, stubOptions{})
		tr := s.gdbExt(prog("checksum"),
			fmt.Sprintf("attach %d", p.cmd.Process.Pid),
			"break work_round", "set var go = 1", "continue", "disconnect")
		tr.match("continue", `Breakpoint 1, work_round \(round=0\)`)
		s.waitStderr(`^Remote side has terminated connection`)
		killAndReap(t, p)
		s.waitStderr(killedRE)
		// The server goes on, with nothing to debug.
		c := dialStub(t, s)
		exchange(t, c, "qSupported:multiprocess+")
		exchange(t, c, "!")
		if r := exchange(t, c, "qfThreadInfo"); r != "l" {
			t.Errorf("qfThreadInfo after the kill = %q, want l (no thread)", r)
		}
	})
}

// killAndReap kills p, a child of the test debugged by procgdb, with
// SIGKILL and checks that it ends: the test can reap it only once its
// tracer has.
func killAndReap(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("process %d not reaped %v after SIGKILL: %s", p.cmd.Process.Pid, exitTimeout, procState(p.cmd.Process.Pid))
	}
	var exitErr *exec.ExitError
	if !errors.As(p.err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("process ended with %v, want killed by SIGKILL", p.err)
	}
}
