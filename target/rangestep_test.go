package target

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
)

// TestRangeStepNative range-steps one thread through the whole of add()
// while the other threads run the same code: it runs at full speed up to
// its first call, which it steps into and ends the step, outside the
// range. The other threads pass the internal breakpoints on add()'s
// calls unseen, the internal breakpoints are gone afterwards, and the
// program runs to its end with its total right.
func TestRangeStepNative(t *testing.T) {
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	add := symbol(t, tr, pid, prog, "add")
	sym, _ := elfSymbol(t, prog, "add")
	end := add + sym.Size
	require.NoError(t, tr.InsertBreakpoint(pid, add))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventBreakpoint, ev.Kind)
	require.NoError(t, tr.RemoveBreakpoint(pid, add))

	require.NoError(t, tr.Resume([]inferior.Action{
		{Kind: inferior.Step, PID: pid, TID: ev.TID, RangeStart: add, RangeEnd: end},
		{Kind: inferior.Continue, PID: inferior.All, TID: inferior.All},
	}))
	require.Equal(t, inferior.Event{Kind: inferior.EventStep, PID: pid, TID: ev.TID}, wait(t, tr))
	regs, err := tr.Registers(pid, ev.TID, false)
	require.NoError(t, err)
	require.False(t, regs.GPR.Rip >= add && regs.GPR.Rip < end, "PC %#x still in [%#x, %#x)", regs.GPR.Rip, add, end)

	// The internal breakpoints are gone: memory holds what procgdb
	// shows.
	f, err := os.Open(procPath(pid, "mem"))
	require.NoError(t, err)
	defer f.Close()
	got, want := make([]byte, sym.Size), make([]byte, sym.Size)
	_, err = f.ReadAt(got, int64(add))
	require.NoError(t, err)
	_, err = tr.ReadMemory(pid, add, want)
	require.NoError(t, err)
	require.Equal(t, want, got)

	require.NoError(t, tr.Resume(all))
	for {
		ev := wait(t, tr)
		if ev.Kind == inferior.EventExited {
			require.Equal(t, 0, ev.ExitCode, "the program's total is wrong")
			break
		}
		require.Failf(t, "unexpected event", "%+v", ev)
	}
}
