//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"testing"
)

// TestConditionInProcess: a breakpoint whose condition, evaluated by the
// stub, is false millions of times, on an instruction procgdb replaces
// with a jump to the condition compiled into the process, while signals
// keep arriving, inside that code as much as anywhere. Every call must
// run exactly once and in order (the program checks), the true hit must
// stop at the breakpoint with the registers of the program, and a
// condition that faults stops there too, for gdb to say why.
func TestConditionInProcess(t *testing.T) {
	prepare(t)
	// gdbserver stops at every hit: fewer of them.
	n := 5000000
	if suite.stub != "procgdb" {
		n = 3000
	}
	for _, c := range []struct {
		name, arg, at, insn string
	}{
		{"true once", "", "hit", `mov\s+0x[0-9a-f]+\(%rip\)`},
		// A jump over a 3-byte instruction keeps the next one's first
		// two bytes.
		{"true once, short instruction", "short", "*hit_short", `mov\s+%rdi,%rax`},
	} {
		t.Run(c.name, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("padsig"), args: []string{fmt.Sprint(n), c.arg}})
			tr := s.gdb(
				"handle SIGALRM nostop noprint pass",
				"set breakpoint condition-evaluation target",
				fmt.Sprintf("break %s if hits == %d", c.at, n/2),
				"continue",
				"print hits",
				"x/i $pc",
				"print $pc == &hit || $pc > &hit && $pc < &hit + 16 || $pc == &hit_short",
				"bt 2",
				// (Stepping over the breakpoint, gdb would take one signal
				// after another to the handler and back onto it.)
				"delete",
				"continue",
			)
			tr.match("continue", `(?m)^Breakpoint 1, .*hit(_short)? \(\)`, 1)
			tr.match("print hits", fmt.Sprintf(`^\$\d+ = %d$`, n/2))
			tr.match("x/i $pc", `<hit(_short)?(\+\d+)?>:\s+`+c.insn)
			tr.match("print $pc == &hit || $pc > &hit && $pc < &hit + 16 || $pc == &hit_short", `^\$\d+ = 1$`)
			tr.match("bt 2", `(?m)^#1 .* main \(`)
			tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 2)
			if _, _, err := s.stdout.wait(0, regexp.MustCompile(fmt.Sprintf(`^hits=%d check=\d+ alarms=\d+$`, n)), exitTimeout, s.done); err != nil {
				t.Errorf("the program's report: %v\n%s", err, s.stdout)
			}
		})
	}
	t.Run("condition faults", func(t *testing.T) {
		prepare(t)
		s := startStub(t, stubOptions{prog: prog("padsig"), args: []string{fmt.Sprint(n)}})
		tr := s.gdb(
			"handle SIGALRM nostop noprint pass",
			"set breakpoint condition-evaluation target",
			"break hit if hits > 1000 && *(int *)8 == 1",
			"continue",
			"print hits",
			"delete",
			"continue",
		)
		tr.match("continue", `(?s)Cannot access memory at address 0x8.*hit \(\)`, 1)
		tr.match("print hits", `^\$\d+ = 1001$`)
		tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 2)
	})
}
