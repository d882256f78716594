package target

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// TestParkReapsKilled: a process killed while the tracer is parked (no
// client) is let go to its end and reaped at once, and Park reports it;
// left unparked, it would stay in its exit stop until the next resume.
func TestParkReapsKilled(t *testing.T) {
	for _, tc := range []struct {
		name string
		prog string
		// stop brings the launched process where it is killed.
		stop func(t *testing.T, tr *Ctl, pid int, prog string)
	}{
		{"at its first instruction", "spin", func(*testing.T, *Ctl, int, string) {}},
		{"threads at a breakpoint", "threads", func(t *testing.T, tr *Ctl, pid int, prog string) {
			require.NoError(t, tr.InsertBreakpoint(pid, symbol(t, tr, pid, prog, "add")))
			require.NoError(t, tr.Resume(all))
			require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
			require.NoError(t, tr.ClearBreakpoints(pid))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := build(t, tc.prog)
			tr := newTracer(t)
			pid, _ := launch(t, tr, prog)
			tc.stop(t, tr, pid, prog)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, unix.Kill(pid, unix.SIGKILL))
			ev, err := tr.Park(ctx)
			require.NoError(t, err)
			require.Equal(t, inferior.EventKilled, ev.Kind)
			require.Equal(t, pid, ev.PID)
			require.Equal(t, int(unix.SIGKILL), ev.Signal)
			require.Empty(t, tr.Processes())
			// Reaped: the PID names nothing any more (procgdb is the
			// parent of what it launches).
			require.ErrorIs(t, unix.Kill(pid, 0), unix.ESRCH)

			_, err = tr.Park(ctx)
			require.ErrorIs(t, err, inferior.ErrNoProcess)
		})
	}
}

// TestParkThenResume: Park ends with its context, and the tracer then
// serves a client as before: the process runs to its end.
func TestParkThenResume(t *testing.T) {
	prog := build(t, "basic")
	tracer, tr := newTracerHandle(t)
	pid, _ := launch(t, tr, prog)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		// Work sent meanwhile is served.
		served <- tracer.Do(func(c *Ctl) error {
			_, err := c.Registers(pid, pid, false)
			return err
		})
		cancel()
	}()
	_, err := tr.Park(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, <-served)
	runsToExit(t, tr, pid)
}

// TestParkWithoutProcess: with no process to watch, Park returns at once.
func TestParkWithoutProcess(t *testing.T) {
	tr := newTracer(t)
	_, err := tr.Park(context.Background())
	require.ErrorIs(t, err, inferior.ErrNoProcess)
}
