package target

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// A process killed from outside is reported as killed (inferior.EventKilled with
// SIGKILL) whatever state the tracer had it in: stopped at a breakpoint
// and then resumed, running, single-stepping, or stepping over a
// breakpoint. Nothing hangs, and the tracer forgets the process.
func TestKilledFromOutside(t *testing.T) {
	prog := build(t, "spin")
	step := []inferior.Action{{Kind: inferior.Step, PID: inferior.All, TID: inferior.All}}
	for _, tc := range []struct {
		name string
		// run brings the process to the state in which it is killed and
		// reports whether it is then running (resumed, stop not yet
		// reported).
		run func(t *testing.T, tr *Ctl, pid int) bool
	}{
		{"stopped", func(t *testing.T, tr *Ctl, pid int) bool {
			return false
		}},
		{"stopped at a breakpoint", func(t *testing.T, tr *Ctl, pid int) bool {
			require.NoError(t, tr.InsertBreakpoint(pid, symbol(t, tr, pid, prog, "main")))
			require.NoError(t, tr.Resume(all))
			require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
			return false
		}},
		{"running", func(t *testing.T, tr *Ctl, pid int) bool {
			require.NoError(t, tr.Resume(all))
			return true
		}},
		{"stepping", func(t *testing.T, tr *Ctl, pid int) bool {
			require.NoError(t, tr.Resume(step))
			return true
		}},
		{"stepping over a breakpoint", func(t *testing.T, tr *Ctl, pid int) bool {
			require.NoError(t, tr.InsertBreakpoint(pid, symbol(t, tr, pid, prog, "main")))
			require.NoError(t, tr.Resume(all))
			require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
			// The step over the breakpoint happens in Resume; kill right
			// after it, while the thread steps on.
			require.NoError(t, tr.Resume(step))
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracer(t)
			pid, _ := launch(t, tr, prog)
			running := tc.run(t, tr, pid)
			require.NoError(t, unix.Kill(pid, unix.SIGKILL))
			if !running {
				// The client resumes the stopped process, or tries to.
				err := tr.Resume(all)
				if err != nil {
					t.Logf("Resume after the kill: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var ev inferior.Event
			for {
				var err error
				ev, err = tr.Wait(ctx)
				require.NoError(t, err, "no event after the process was killed")
				if ev.Kind == inferior.EventKilled || ev.Kind == inferior.EventExited {
					break
				}
				// A step may end before the kill lands: go on.
				t.Logf("event %v before the kill", ev.Kind)
				require.NoError(t, tr.Resume(all))
			}
			require.Equal(t, inferior.EventKilled, ev.Kind)
			require.Equal(t, pid, ev.PID)
			require.Equal(t, int(unix.SIGKILL), ev.Signal)
			require.Empty(t, tr.Processes())
		})
	}
}
