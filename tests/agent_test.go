//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// agentTotal is what testdata/agent.c prints for its ten items: the sum
// over i of 20i + i%3.
const agentTotal = "total=909"

// TestTargetConditions sets conditions that gdb compiles into agent
// expressions for the stub to evaluate, with condition-evaluation target
// and auto: on a global through a cast (sign extension), on a local in
// the frame (read relative to the frame's registers), and through a
// pointer chain that ends at NULL, where evaluating faults and gdb
// decides (it stops, saying why). The program must stop exactly where a
// condition holds and otherwise run unharmed.
func TestTargetConditions(t *testing.T) {
	prepare(t)
	// gdbserver 13 takes a condition it cannot read for a false one: the
	// faulting one is procgdb's alone.
	faults := suite.stub == "procgdb"
	for _, mode := range []string{"target", "auto"} {
		t.Run(mode, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("agent")})
			cmds := []string{
				"set breakpoint condition-evaluation " + mode,
				"show breakpoint condition-evaluation",
				// weight 50: 150 as a signed char is -106.
				"break visit if (signed char)(it->weight * 3) < -100",
				// 20i + i%3 is 141 for item 7 only.
				fmt.Sprintf("break agent.c:%d if local == 141", lineOf(t, "agent.c", "visit")),
			}
			if faults {
				// Item 9, the last, has no next: reading through it faults.
				cmds = append(cmds, "break visit if it->next->id == 100")
			}
			bps := len(cmds) - 2
			cmds = append(cmds,
				"continue",
				"info breakpoints",
				"print it->id",
				"continue",
				"print it->id",
				"continue",
				"print it->id",
				"continue",
			)
			tr := s.gdb(cmds...)
			tr.match("show breakpoint condition-evaluation", `mode is `+mode)
			if mode == "auto" {
				tr.match("show breakpoint condition-evaluation", `\(currently target\)`)
			} else if n, want := len(regexp.MustCompile(`\(target evals\)`).FindAllString(tr.out("info breakpoints"), -1)), bps; n != want {
				t.Errorf("info breakpoints shows %d conditions evaluated by the target, want %d", n, want)
			}
			tr.match("continue", `(?m)^Breakpoint 1, visit \(it=`, 1)
			tr.match("print it->id", `^\$\d+ = 5$`, 1)
			tr.match("continue", `(?m)^Breakpoint 2, visit \(it=`, 2)
			tr.match("print it->id", `^\$\d+ = 7$`, 2)
			end := 3
			if faults {
				tr.match("continue", `Error in testing (breakpoint )?condition`, 3)
				tr.match("continue", `Cannot access memory at address 0x0`, 3)
				tr.match("print it->id", `^\$\d+ = 9$`, 3)
				end = 4
			}
			tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, end)
			agentRanOnce(t, s)
		})
	}
}

// agentRanOnce checks that testdata/agent.c visited each item once: the
// total it printed.
func agentRanOnce(t *testing.T, s *stub) {
	t.Helper()
	if _, _, err := s.stdout.wait(0, regexp.MustCompile(`^`+agentTotal+`$`), exitTimeout, s.done); err != nil {
		t.Errorf("the program's report: %v\n%s", err, s.stdout)
	}
}

// TestAgentDprintf uses dprintf with `set dprintf-style agent`: gdb hands
// the printf to the stub as a breakpoint command, and the stub prints the
// text on its standard output while the program runs on, gdb never
// stopping. A condition on the dprintf chooses the hits that print
// (gdbserver 13 prints at every hit, whatever the condition).
func TestAgentDprintf(t *testing.T) {
	prepare(t)
	skip := -1
	if suite.stub == "procgdb" {
		skip = 4
	}
	s := startStub(t, stubOptions{prog: prog("agent")})
	tr := s.gdb(
		"set dprintf-style agent",
		`dprintf visit,"item %d weighs %ld at depth %d\n",it->id,it->weight,depth`,
		"condition 1 it->id != 4",
		"continue",
	)
	tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`)
	tr.noMatch("continue", `(?m)^(Breakpoint|Dprintf) 1,`)
	agentRanOnce(t, s)
	var want []string
	for i := range 10 {
		if i != skip {
			want = append(want, fmt.Sprintf("item %d weighs %d at depth %d", i, 10*i, i%3))
		}
	}
	var got []string
	for _, l := range regexp.MustCompile(`\n`).Split(s.stdout.String(), -1) {
		if regexp.MustCompile(`^item `).MatchString(l) {
			got = append(got, l)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the stub printed\n%q\nwant\n%q", got, want)
	}
}

// TestAgentDprintfSignals: a dprintf in the stub, on a function called in
// a loop while SIGALRM comes every 200 microseconds, often while the
// thread is passing the breakpoint. Each call prints exactly once: a
// signal that comes then is delivered after the instruction, not on the
// breakpoint, where its handler would return onto the int3 and print
// again.
func TestAgentDprintfSignals(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "one print per call under a 5 kHz timer (gdbserver 13 prints again after each signal, here without end)")
	const n = 2000
	s := startStub(t, stubOptions{prog: prog("padsig"), args: []string{fmt.Sprint(n)}})
	tr := s.gdb(
		"handle SIGALRM nostop noprint pass",
		"set dprintf-style agent",
		`dprintf hit,"call %lu\n",hits`,
		"continue",
	)
	tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`)
	if _, _, err := s.stdout.wait(0, regexp.MustCompile(fmt.Sprintf(`^hits=%d check=\d+ alarms=\d+$`, n)), exitTimeout, s.done); err != nil {
		t.Fatalf("the program's report: %v\n%s", err, s.stdout)
	}
	var calls []string
	for _, l := range strings.Split(s.stdout.String(), "\n") {
		if strings.HasPrefix(l, "call ") {
			calls = append(calls, l)
		}
	}
	if len(calls) != n {
		t.Fatalf("%d prints for %d calls", len(calls), n)
	}
	for i, l := range calls {
		if l != fmt.Sprintf("call %d", i) {
			t.Fatalf("print %d is %q", i, l)
		}
	}
}
