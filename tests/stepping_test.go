//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"testing"
)

// TestNextAndStep drives gdb's next and step through testdata/stepping.c,
// which gdb does with range steps (vCont;r) where the stub offers them:
// next over a line that loops, step into a call and finish it, next over
// a recursive call (the deeper frames run the same range), and next over
// a call that longjmps back to its caller's setjmp. Each must stop where
// gdb stops with any stub, and the program must compute what it computes
// alone.
func TestNextAndStep(t *testing.T) {
	prepare(t)
	line := func(marker string) int { return lineOf(t, "stepping.c", marker) }
	at := func(marker string) string { return fmt.Sprintf(`(?m)^%d\s`, line(marker)) }
	s := startStub(t, stubOptions{prog: prog("stepping"), args: []string{"300"}})
	tr := s.gdb(
		fmt.Sprintf("break %d", line("start")),
		"continue",
		"next",
		"next",
		"print sum",
		"next",
		"step",
		"finish",
		"next",
		"step",
		"next",
		"next",
		"print n",
		"bt",
		"finish",
		"next",
		"next",
		"next",
		"next",
		"next",
		"print v",
		"continue",
	)
	tr.match("continue", `Breakpoint 1, main \(`, 1)
	tr.match("next", at("loop"), 1)
	tr.match("next", at("after-loop"), 2)
	tr.match("print sum", `^\$\d+ = 44850$`)
	tr.match("next", at("call"), 3)
	tr.match("step", `twice \(v=44850\) at \S*stepping\.c:\d+\n`+fmt.Sprint(line("twice")), 1)
	tr.match("finish", `Value returned is \$\d+ = 89700`, 1)
	tr.match("next", at("fact"), 4)
	tr.match("step", `fact \(n=5\) at \S*stepping\.c:\d+\n`+fmt.Sprint(line("fact-base")), 2)
	tr.match("next", at("fact-rec"), 5)
	// Over the recursion: in the same frame, past its line.
	tr.noMatch("next", at("fact-base")+`|at \S*stepping\.c:`, 6)
	tr.match("print n", `^\$\d+ = 5$`)
	if n := len(regexp.MustCompile(`(?m)^#\d+ `).FindAllString(tr.out("bt"), -1)); n != 2 {
		t.Errorf("bt shows %d frames, want 2 (fact, main):\n%s", n, tr.out("bt"))
	}
	tr.match("finish", `Value returned is \$\d+ = 120`, 2)
	tr.match("next", at("setjmp"), 7)
	tr.match("next", at("if-jump"), 8)
	tr.match("next", at("do-jump"), 9)
	// Over the longjmp: gdb stops past setjmp's second return, in the
	// printf that the test of v leads to.
	tr.match("next", at("print-args"), 10)
	tr.match("next", at("print"), 11)
	tr.match("print v", `^\$\d+ = 7$`)
	tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 2)
	if _, _, err := s.stdout.wait(0, regexp.MustCompile(`^sum=44850 twice=89700 fact=120 jumped=7 `), exitTimeout, s.done); err != nil {
		t.Errorf("the program's report: %v\n%s", err, s.stdout)
	}
}
