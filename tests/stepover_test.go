//go:build linux

package tests

import (
	"fmt"
	"testing"
)

// A thread resumed at an inserted breakpoint hits it, unless it stopped
// at that very breakpoint and its PC is where it stopped: gdb steps over
// breakpoints itself (it removes one, steps, inserts it again), and
// resumes a thread at a breakpoint when it wants the breakpoint hit.

// TestBreakpointAtMovedPC moves the PC onto a breakpoint, with jump and
// with set $pc (an IDE's "set next statement"): the breakpoint is hit at
// once, before the instruction there runs.
func TestBreakpointAtMovedPC(t *testing.T) {
	prepare(t)
	first := lineOf(t, "jump.c", "first")
	second := lineOf(t, "jump.c", "second")
	third := lineOf(t, "jump.c", "third")
	s := startStub(t, stubOptions{prog: prog("jump")})
	tr := s.gdb(
		fmt.Sprintf("break %d", first),
		"continue",
		fmt.Sprintf("break %d", second),
		fmt.Sprintf("jump %d", second),
		"break *third_pc",
		"set $pc = third_pc",
		"continue",
		"continue",
	)
	tr.match("continue", fmt.Sprintf(`Breakpoint 1, main \(\) at \S*jump\.c:%d\n`, first))
	tr.match(fmt.Sprintf("jump %d", second), fmt.Sprintf(`Breakpoint 2, main \(\) at \S*jump\.c:%d\n`, second))
	tr.match("continue", fmt.Sprintf(`Breakpoint 3, (0x[0-9a-f]+ in )?main \(\) at \S*jump\.c:%d\n`, third), 2)
	// Only the third assignment ran.
	tr.match("continue", exitedRE(3), 3)
}

// TestBreakpointAtStoppedThread inserts a breakpoint at the PC of a thread
// that the stop of another thread stopped in the middle of its loop: when
// the program continues, that thread hits it before it runs anything.
func TestBreakpointAtStoppedThread(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("spinthread")})
	tr := s.gdb(
		"break ready",
		"continue",
		"thread 2",
		"print spins",
		"break *$pc",
		"thread 1",
		"continue",
		"print spins",
		"delete",
		"set var stop = 1",
		"continue",
	)
	tr.match("continue", `Breakpoint 1, ready \(\)`)
	tr.match("continue", `Thread 2 .* hit Breakpoint 2, `, 2)
	before := tr.match("print spins", `^\$\d+ = (\d+)$`)
	after := tr.match("print spins", `^\$\d+ = (\d+)$`, 2)
	if before != nil && after != nil && before[1] != after[1] {
		t.Errorf("spins went from %s to %s before thread 2 hit the breakpoint at its PC: it stepped over it", before[1], after[1])
	}
	tr.match("continue", exitedRE(0), 3)
}
