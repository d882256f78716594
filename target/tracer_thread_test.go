package target

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestTracerThreadPanic: work that panics on the tracer thread fails with
// an error instead of ending the program, and the tracer goes on serving.
func TestTracerThreadPanic(t *testing.T) {
	tr := newTracer(t)
	pid, _ := launch(t, tr, build(t, "basic"))
	err := tr.th.do(func() error { panic("boom") })
	require.ErrorContains(t, err, "internal error: boom")
	runsToExit(t, tr, pid)
}

// runsToExit resumes the tracer's processes and checks that process pid
// exits.
func runsToExit(t *testing.T, tr *Tracer, pid int) {
	t.Helper()
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, EventExited, ev.Kind)
	require.Equal(t, pid, ev.PID)
}

// TestTracerThreadStartsWithAProcess: a Tracer makes no OS thread until it
// launches or attaches; what a client does before that (its settings,
// queries, an interrupt) needs none, and Close lets go of nothing.
func TestTracerThreadStartsWithAProcess(t *testing.T) {
	tr := newTracer(t)
	tr.SetPassSignals([]int{int(unix.SIGUSR1)})
	tr.SetEventOptions(EventOptions{Fork: true})
	require.Empty(t, tr.Processes())
	require.Empty(t, tr.HeldForks())
	require.False(t, tr.Running())
	require.False(t, tr.IsAttached(1))
	require.NoError(t, tr.Interrupt())
	require.False(t, tr.th.started.Load(), "the tracer thread started")
	require.NoError(t, tr.Close())
	require.ErrorIs(t, tr.Resume(all), ErrClosed)

	// With a process, it starts.
	tr = newTracer(t)
	launch(t, tr, build(t, "basic"))
	require.True(t, tr.th.started.Load())
}
