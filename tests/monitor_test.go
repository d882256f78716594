//go:build linux

package tests

import (
	"errors"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// Monitor commands (qRcmd): gdbserver's set, which test boards and IDEs
// send (help, exit, set debug, set remote-debug, set debug-format), and
// procgdb's own info.

// TestMonitorCommands drives every monitor command through gdb: the logs
// switch on and off while the session runs, info describes the session,
// an unknown command gets one line naming monitor help, and exit ends
// procgdb and the program it started.
func TestMonitorCommands(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's monitor output")
	s, _ := startBasic(t)
	tr := s.gdb(
		"monitor help",
		"monitor set remote-debug 1",
		"monitor set debug 1",
		"x/4xb 8",
		"monitor set remote-debug 0",
		"monitor set debug-format none",
		"x/2xb 16",
		"monitor set debug 0",
		"x/3xb 24",
		"monitor bogus",
		"monitor set debug maybe",
		"monitor info",
		"monitor exit",
	)
	for _, cmd := range []string{"help", "info", "exit", `set debug 0\|1`, `set remote-debug 0\|1`, `set debug-format all\|none\|timestamp`} {
		tr.match("monitor help", `(?m)^  `+cmd+`(\s|$)`)
	}
	tr.match("monitor set remote-debug 1", `^Packet log: on\.$`)
	tr.match("monitor set debug 1", `^Debug log: on\.$`)
	tr.match("monitor set debug-format none", `^Log lines with timestamps: off\.$`)
	tr.match("monitor bogus", `^procgdb: unknown monitor command "bogus"; "monitor help" lists them\nProtocol error with Rcmd$`)
	tr.match("monitor set debug maybe", `^procgdb: set debug: "maybe": want 0 or 1\n`)
	tr.match("monitor info", `(?m)^procgdb \S+ \(go\S+\), pid \d+, up \d+s$`)
	tr.match("monitor info", `(?m)^command line: procgdb (\S+ )*:0 \S+/basic \S+$`)
	tr.match("monitor info", `(?m)^transport: :0 \(Listening on port \d+\)$`)
	tr.match("monitor info", `(?m)^logs: debug off, packets off, timestamps off$`)
	tr.match("monitor info", `(?m)^debug registers: (in use|not in use) \(.+\)`)
	tr.match("monitor info", `(?m)^ptrace: .*CAP_SYS_PTRACE$`)
	tr.match("monitor info", `(?m)^clients: 1\n  1: Remote debugging from host 127\.0\.0\.1, port \d+, for \d+s$`)
	tr.match("monitor info", fmt.Sprintf(`(?m)^process %d \(started, client 1\): \S+/basic\n  thread %[1]d "basic": stopped \(tracing stop\)$`, s.pid))
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("procgdb after monitor exit: %v (want status 0)", err)
	}
	gone(t, s.pid)

	// The packet log had the first read and not the second; the debug log
	// had both reads' errors, the second without a timestamp, and not the
	// third.
	for _, want := range []string{`^time=\S+ level=INFO msg=rsp dir=in packet=m8,1$`, `^time=\S+ level=DEBUG msg="error reply" .*read 0x8\+1`, `^level=DEBUG msg="error reply" .*read 0x10\+1`} {
		if s.stderr.count(regexp.MustCompile(want)) == 0 {
			t.Errorf("stderr lacks a line matching %s", want)
		}
	}
	for _, unwanted := range []string{`packet=m10,1`, `0x18\+1`} {
		if s.stderr.count(regexp.MustCompile(unwanted)) != 0 {
			t.Errorf("stderr has a line matching %s, logged while the log was off", unwanted)
		}
	}
}

// gone waits until process pid no longer exists.
func gone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, bounded above
	}
}

// TestMonitorExit: monitor exit ends the stub as gdbserver's does: the
// program it started is killed.
func TestMonitorExit(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	s.gdb("break main", "continue", "monitor exit")
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("%s after monitor exit: %v (want status 0)", suite.stub, err)
	}
	gone(t, s.pid)
}

// TestMonitorExitAttached: a process the stub attached to is let go by
// monitor exit, its breakpoints removed, and runs on unharmed.
func TestMonitorExitAttached(t *testing.T) {
	prepare(t)
	canAttach(t)
	p := startReady(t, "ticker")
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("ticker")})
	s.gdb("break tick", "continue", "monitor exit")
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("%s after monitor exit: %v (want status 0)", suite.stub, err)
	}
	if m := p.runsOnToReport(t, "ticker", `^done ticks=(\d+) sum=\d+ ok=(\d)$`); m[2] != "1" {
		t.Errorf("ticker's sum is wrong after monitor exit: %q", m[0])
	}
}

// TestMonitorExitMulti: an extended-remote server ends on monitor exit
// too, with the programs its client ran.
func TestMonitorExitMulti(t *testing.T) {
	prepare(t)
	s := startMulti(t, stubOptions{})
	s.gdbExt(prog("basic"), "set remote exec-file "+prog("basic"), "break main", "run", "monitor exit")
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("%s after monitor exit: %v (want status 0)", suite.stub, err)
	}
	pids := s.launched()
	if len(pids) != 1 {
		t.Fatalf("%s launched %v, want one process", suite.stub, pids)
	}
	gone(t, pids[0])
}

// TestLLDBMonitor: lldb reaches the monitor commands with process plugin
// packet monitor.
func TestLLDBMonitor(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "lldb's dialect")
	needTool(t, "lldb")
	s, _ := startBasic(t)
	tr := runLLDB(t, prog("basic"),
		"gdb-remote "+s.target,
		"process plugin packet monitor help",
		"process plugin packet monitor info",
		"process plugin packet monitor bogus",
		"process plugin packet monitor exit",
	)
	tr.match("process plugin packet monitor help", `(?m)^  set remote-debug 0\|1 `)
	tr.match("process plugin packet monitor help", `(?m)^response: OK$`)
	tr.match("process plugin packet monitor info", fmt.Sprintf(`(?m)^process %d \(started, client 1\)`, s.pid))
	tr.match("process plugin packet monitor bogus", `(?m)^procgdb: unknown monitor command "bogus"; "monitor help" lists them$`)
	tr.match("process plugin packet monitor bogus", `(?m)^response: E`)
	tr.match("process plugin packet monitor exit", `(?m)^response: OK$`)
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("procgdb after monitor exit: %v (want status 0)", err)
	}
	gone(t, s.pid)
}
