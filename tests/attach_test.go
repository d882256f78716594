//go:build linux

package tests

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
