//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// TestConditionalBreakpoints sets breakpoints with conditions on
// arguments, locals and globals, which gdb compiles into agent
// expressions for a stub that evaluates them (ConditionalBreakpoints):
// the program must stop exactly where a condition holds, in the thread
// it holds for, and otherwise run on unharmed, whichever thread passes
// the breakpoint meanwhile.
func TestConditionalBreakpoints(t *testing.T) {
	prepare(t)
	t.Run("arguments and globals", func(t *testing.T) {
		prepare(t)
		s := startStub(t, stubOptions{prog: prog("checksum"), args: []string{"6"}})
		tr := s.gdb(
			"break mix if v == 2003",
			"break work_round if counter == 4 && round > 1",
			"continue",
			"print v",
			"continue",
			"print counter",
			"info breakpoints",
			"detach",
		)
		tr.match("continue", `(?m)^Breakpoint 1, mix \(h=\d+, v=2003\)`)
		tr.match("print v", `^\$\d+ = 2003$`)
		tr.match("continue", `(?m)^Breakpoint 2, work_round \(round=4\)`, 2)
		tr.match("print counter", `^\$\d+ = 4$`)
		if n := len(regexp.MustCompile(`(?m)^\s+breakpoint already hit 1 time$`).FindAllString(tr.out("info breakpoints"), -1)); n != 2 {
			t.Errorf("info breakpoints shows %d breakpoints hit once, want 2", n)
		}
		tr.match("detach", `\[Inferior 1 \(process \d+\) detached\]`)
		// Run on its own, the program finds its code as on disk: every
		// breakpoint passed was put back and then taken out.
		if _, _, err := s.stdout.wait(0, regexp.MustCompile(`^checksum=[0-9a-f]+ text=ok$`), exitTimeout, s.done); err != nil {
			t.Errorf("the program's report: %v\n%s", err, s.stdout)
		}
	})
	t.Run("threads", func(t *testing.T) {
		prepare(t)
		s := startStub(t, stubOptions{prog: prog("threads")})
		tr := s.gdb(
			"break worker if id == 2",
			"continue",
			"print id",
			"info breakpoints",
			"continue",
		)
		tr.match("continue", `(?m)^Thread \d+ .*hit Breakpoint 1, worker \(id=2\)`)
		tr.match("print id", `^\$\d+ = 2$`)
		tr.match("info breakpoints", `(?m)^\s+breakpoint already hit 1 time$`)
		tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 2)
	})
}

// TestConditionPassedAside: a breakpoint on an instruction with a
// RIP-relative operand (the first of hit(), past its prologue) whose
// condition, evaluated by the stub, is false thousands of times, in
// all-stop and in non-stop mode. The instruction runs exactly once each
// time (the program's count), and procgdb passes the breakpoint out of
// line, never stopping the other threads: the waiter thread's epoll_wait,
// which any stop interrupts, is interrupted only by the one stop gdb
// hears of (gdbserver stops every thread at each hit).
func TestConditionPassedAside(t *testing.T) {
	prepare(t)
	for _, mode := range []string{"all-stop", "non-stop"} {
		t.Run(mode, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("busyhits"), args: []string{"3000"}})
			tr := runGDB(t, s.opts.prog, fmt.Sprintf("set non-stop %v", mode == "non-stop"),
				"target remote "+s.target,
				"set breakpoint condition-evaluation target",
				"break hit if hits == 2000",
				"continue",
				"x/i $pc",
				"print hits",
				"delete",
				"continue",
			)
			tr.match("continue", `(?m)^Thread \d+ .*hit Breakpoint 1, hit \(\)`, 1)
			tr.match("x/i $pc", `\(%rip\)`)
			tr.match("print hits", `^\$\d+ = 2000$`)
			tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 2)
			_, m, err := s.stdout.wait(0, regexp.MustCompile(`^hits=3000 eintrs=(\d+) `), exitTimeout, s.done)
			if err != nil {
				t.Fatalf("the program's report: %v\n%s", err, s.stdout)
			}
			eintrs, _ := strconv.Atoi(m[1])
			t.Logf("%s stopped the waiter thread %d times", suite.stub, eintrs)
			if suite.stub == "procgdb" && eintrs > 2 {
				t.Errorf("the waiter thread was stopped %d times, want at most 2 (the reported stop, and one spare)", eintrs)
			}
		})
	}
}
