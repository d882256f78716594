package target

import (
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
)

// Benchmarks of a resume and its stop through the tracer alone (no
// protocol): the ptrace thread's part of a single step and of a
// breakpoint hit.

// stoppedInLoop launches testdata/loop.c and runs it to its first call
// of hit, where the breakpoint stays.
func stoppedInLoop(b *testing.B) (tr *Ctl, pid int, hit uint64) {
	prog := build(b, "loop")
	tr = newTracer(b)
	pid, err := tr.Launch(LaunchOptions{Path: prog, Args: []string{prog}})
	require.NoError(b, err)
	hit = symbol(b, tr, pid, prog, "hit")
	require.NoError(b, tr.InsertBreakpoint(pid, hit))
	require.NoError(b, tr.Resume(all))
	require.Equal(b, inferior.EventBreakpoint, wait(b, tr).Kind)
	return tr, pid, hit
}

// BenchmarkStep single-steps the one thread of a program (round its loop,
// with the breakpoint out of the way).
func BenchmarkStep(b *testing.B) {
	tr, pid, hit := stoppedInLoop(b)
	require.NoError(b, tr.RemoveBreakpoint(pid, hit))
	step := []inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid}}
	for b.Loop() {
		if err := tr.Resume(step); err != nil {
			b.Fatal(err)
		}
		if ev := wait(b, tr); ev.Kind != inferior.EventStep {
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
		if ev := wait(b, tr); ev.Kind != inferior.EventBreakpoint {
			b.Fatalf("stopped with %+v", ev)
		}
	}
}

// symbolSize returns the size of a function of the program.
func symbolSize(t testing.TB, prog, name string) uint64 {
	t.Helper()
	s, _ := elfSymbol(t, prog, name)
	return s.Size
}

// A range step over hit's body reports one stop, back in main, however
// many instructions it took; the breakpoint at hit's start, stepped over
// on the way out, is still there for the next call.
func TestRangeStep(t *testing.T) {
	prog := build(t, "loop")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	size := symbolSize(t, prog, "hit")
	main := symbol(t, tr, pid, prog, "main")
	require.NoError(t, tr.InsertBreakpoint(pid, hit))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)

	for range 2 {
		require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid, RangeStart: hit, RangeEnd: hit + size}}))
		ev := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventStep, PID: pid, TID: pid}, ev)
		s, err := tr.Registers(pid, pid, false)
		require.NoError(t, err)
		pc := s.GPR.Rip
		require.True(t, pc >= main && pc < main+symbolSize(t, prog, "main"), "stopped at %#x, outside main", pc)
		// On to the breakpoint again.
		require.NoError(t, tr.Resume(all))
		require.Equal(t, inferior.Event{Kind: inferior.EventBreakpoint, PID: pid, TID: pid}, wait(t, tr))
	}
}

// A range the thread never leaves goes on past the time it may take on
// the spot, and an interrupt still ends it.
func TestRangeStepInterrupted(t *testing.T) {
	prog := build(t, "loop")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	main := symbol(t, tr, pid, prog, "main")
	lo, hi := min(hit, main), max(hit+symbolSize(t, prog, "hit"), main+symbolSize(t, prog, "main"))
	require.NoError(t, tr.InsertBreakpoint(pid, hit))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	require.NoError(t, tr.RemoveBreakpoint(pid, hit))
	require.Less(t, hi-lo, uint64(4096), "hit and main lie together")

	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid, RangeStart: lo, RangeEnd: hi}}))
	require.True(t, tr.Running(), "the range step went on in the loop")
	require.NoError(t, tr.Interrupt())
	ev := wait(t, tr)
	require.Equal(t, pid, ev.TID)
	require.Contains(t, []inferior.EventKind{inferior.EventSignal, inferior.EventStep}, ev.Kind)
}

// BenchmarkHandOff is a request that does nothing, sent to the ptrace
// thread and answered: the cost of crossing to the locked thread and
// back, which every resume pays once.
func BenchmarkHandOff(b *testing.B) {
	tr, _, _ := stoppedInLoop(b)
	for b.Loop() {
		if tr.Running() {
			b.Fatal("running")
		}
	}
}
