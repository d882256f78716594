//go:build linux

package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// canAttach skips the test when Yama forbids attaching to a process that is
// not a descendant (ptrace_scope 2 without root, or 3). Scope 1 is fine: the
// attach targets allow any tracer with PR_SET_PTRACER.
func canAttach(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return // no Yama
	}
	scope, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if scope >= 3 || (scope == 2 && os.Geteuid() != 0) {
		t.Skipf("kernel.yama.ptrace_scope is %d: attaching is not allowed here", scope)
	}
}

// TestAttachDetach attaches to a running testdata/ticker.c, stops it at a
// breakpoint, detaches and then lets it finish: it must run on unharmed (a
// breakpoint left behind would kill it with SIGTRAP, a corrupted tick()
// would break its sum).
func TestAttachDetach(t *testing.T) {
	prepare(t)
	canAttach(t)
	tickBody := lineOf(t, "ticker.c", "tick-body")
	p := startReady(t, "ticker")

	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("ticker")})
	if s.pid != p.cmd.Process.Pid {
		t.Errorf("stub attached to pid %d, want %d", s.pid, p.cmd.Process.Pid)
	}
	tr := s.gdb(
		"break tick",
		"continue",
		"print i > 0",
		"print sum == i * (i - 1) / 2",
		"continue",
		"detach",
	)
	tr.match("continue", fmt.Sprintf(`Breakpoint 1, tick \(i=\d+\) at \S*ticker\.c:%d\n`, tickBody))
	tr.match("print i > 0", `^\$\d+ = 1$`)
	tr.match("print sum == i * (i - 1) / 2", `^\$\d+ = 1$`)
	tr.match("continue", `Breakpoint 1, tick \(i=\d+\)`, 2)
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, p.cmd.Process.Pid))

	// The process goes on by itself; end it through its stdin. It calls
	// tick() once more after that, so a stray int3 there would kill it.
	m := p.runsOnToReport(t, "ticker", `^done ticks=(\d+) sum=\d+ ok=(\d)$`)
	if m[2] != "1" {
		t.Errorf("ticker's sum is wrong after detach: %q", m[0])
	}
}

// TestAttachThreads attaches to a running process with four threads: all of
// them must be stopped and listed, and all must run on after the detach.
func TestAttachThreads(t *testing.T) {
	prepare(t)
	canAttach(t)
	p := startReady(t, "sleepers")
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("sleepers")})
	tr := s.gdb("info threads", "thread apply all print $pc != 0", "detach")
	var listed int
	for _, l := range scanLines(tr.out("info threads")) {
		if regexp.MustCompile(`^\*?\s+\d+\s+Thread `).MatchString(l) {
			listed++
		}
	}
	if listed != 4 {
		t.Errorf("info threads lists %d threads, want 4:\n%s", listed, indent(tr.out("info threads")))
	}
	if n := len(regexp.MustCompile(`(?m)^\$\d+ = 1$`).FindAllString(tr.out("thread apply all print $pc != 0"), -1)); n != 4 {
		t.Errorf("thread apply all printed %d registers, want 4", n)
	}
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, p.cmd.Process.Pid))

	p.runsOnToReport(t, "sleepers", `^done threads=3$`)
}

// zombie returns the PID of a child of the test that has exited and that
// the test has not reaped yet; it is reaped when the test ends.
func zombie(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	pid := cmd.Process.Pid
	deadline := time.Now().Add(readyTimeout)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d not a zombie after %v: %s", pid, readyTimeout, procState(pid))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return pid
}

// TestAttachErrors: a process procgdb cannot attach to is refused with
// one line that says why, on the command line and to an extended-remote
// client that reads error text: a zombie, procgdb itself, a process
// another tracer holds, a process that does not exist.
func TestAttachErrors(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's reasons for refusing an attach")
	canAttach(t)
	zpid := zombie(t)
	traced := startReady(t, "ticker")
	holder := startStub(t, stubOptions{attach: traced.cmd.Process.Pid, prog: prog("ticker")})
	gone := freePID(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"zombie", []string{"--attach", ":0", strconv.Itoa(zpid)},
			fmt.Sprintf(`^procgdb: cannot attach to process %d: it has exited, and is a zombie until its parent reaps it$`, zpid)},
		{"traced", []string{"--attach", ":0", strconv.Itoa(traced.cmd.Process.Pid)},
			fmt.Sprintf(`^procgdb: cannot attach to process %d: it is already being debugged or traced, by process %d \(procgdb\)$`,
				traced.cmd.Process.Pid, holder.cmd.Process.Pid)},
		{"no such process", []string{"--attach", ":0", strconv.Itoa(gone)},
			fmt.Sprintf(`^procgdb: cannot attach to process %d: No such process$`, gone)},
	} {
		_, stderr, code := runStub(t, tc.args...)
		if code == 0 || !regexp.MustCompile(tc.want).MatchString(strings.TrimSpace(stderr)) {
			t.Errorf("%s: procgdb %q: status %d, stderr:\n%s\nwant a line matching %q", tc.name, tc.args, code, indent(stderr), tc.want)
		}
	}

	// procgdb --attach naming itself: the shell's PID is procgdb's once
	// the shell execs it.
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	self := exec.CommandContext(ctx, "sh", "-c", `echo $$; exec "$0" --attach :0 $$`, suite.stubPath)
	out, err := self.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || len(lines) != 2 || lines[1] != "procgdb: cannot attach to process "+lines[0]+": it is this procgdb" {
		t.Errorf("procgdb --attach :0 <its own pid>: %v, output:\n%s\nwant the pid, then procgdb: cannot attach to process PID: it is this procgdb", err, indent(string(out)))
	}

	// The same words reach an extended-remote client as error text.
	s := startMulti(t, stubOptions{})
	c := dialStub(t, s)
	exchange(t, c, "qSupported:multiprocess+;error-message+")
	exchange(t, c, "!")
	for pid, why := range map[int]string{zpid: "it has exited, and is a zombie until its parent reaps it", s.cmd.Process.Pid: "it is this procgdb"} {
		want := fmt.Sprintf("E.vAttach: cannot attach to process %d: %s", pid, why)
		if r := exchange(t, c, fmt.Sprintf("vAttach;%x", pid)); r != want {
			t.Errorf("vAttach;%x = %q, want %q", pid, r, want)
		}
	}
}
