package target

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
)

// TestLoopPanic: work that panics on the loop fails with an error
// instead of ending the program, and the tracer goes on serving.
func TestLoopPanic(t *testing.T) {
	tracer, tr := newTracerHandle(t)
	pid, _ := launch(t, tr, build(t, "basic"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tracer.Do(func(*Ctl) error { panic("boom") })
		cancel()
	}()
	_, err := tr.Park(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, <-done, "internal error: boom")
	runsToExit(t, tr, pid)
}

// runsToExit resumes the tracer's processes and checks that process pid
// exits.
func runsToExit(t *testing.T, tr *Ctl, pid int) {
	t.Helper()
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventExited, ev.Kind)
	require.Equal(t, pid, ev.PID)
}
