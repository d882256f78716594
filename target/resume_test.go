package target

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Benchmarks of a resume and its stop through the tracer alone (no
// protocol): the ptrace thread's part of a single step and of a
// breakpoint hit.

// stoppedInLoop launches testdata/loop.c and runs it to its first call
// of hit, where the breakpoint stays.
func stoppedInLoop(b *testing.B) (tr *Tracer, pid int, hit uint64) {
	prog := build(b, "loop")
	tr = newTracer(b)
	pid, err := tr.Launch(LaunchOptions{Path: prog, Args: []string{prog}})
	require.NoError(b, err)
	hit = symbol(b, tr, pid, prog, "hit")
	require.NoError(b, tr.InsertBreakpoint(pid, hit))
	require.NoError(b, tr.Resume(all))
	require.Equal(b, EventBreakpoint, wait(b, tr).Kind)
	return tr, pid, hit
}

// BenchmarkStep single-steps the one thread of a program.
func BenchmarkStep(b *testing.B) {
	tr, pid, _ := stoppedInLoop(b)
	step := []Action{{Kind: ActionStep, PID: pid, TID: pid}}
	for b.Loop() {
		if err := tr.Resume(step); err != nil {
			b.Fatal(err)
		}
		if ev := wait(b, tr); ev.Kind != EventStep {
			b.Fatalf("stopped with %+v", ev)
		}
	}
}

// BenchmarkBreakpointHit continues from a breakpoint (stepping over it
// with the breakpoint lifted) until the program hits it again.
func BenchmarkBreakpointHit(b *testing.B) {
	tr, _, _ := stoppedInLoop(b)
	for b.Loop() {
		if err := tr.Resume(all); err != nil {
			b.Fatal(err)
		}
		if ev := wait(b, tr); ev.Kind != EventBreakpoint {
			b.Fatalf("stopped with %+v", ev)
		}
	}
}
