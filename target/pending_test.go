package target

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// TestPendingTrapTaken: a thread stopped for the tracer with a SIGTRAP
// still pending (as when it hits an int3 just as it is interrupted)
// reports that SIGTRAP before it runs another instruction.
func TestPendingTrapTaken(t *testing.T) {
	prog := build(t, "spin")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	require.NoError(t, tr.Resume(all))
	require.NoError(t, tr.Interrupt())
	require.Equal(t, int(unix.SIGINT), wait(t, tr).Signal)
	before, err := tr.Registers(pid, pid, false)
	require.NoError(t, err)
	pc := before.GPR.Rip

	require.NoError(t, unix.Tgkill(pid, pid, unix.SIGTRAP))
	var (
		ev               inferior.Event
		ok, pending, ran bool
	)
	// On the loop, which is this goroutine.
	th := tr.t.threads[pid]
	pending, err = trapPending(pid)
	require.NoError(t, err)
	if pending {
		tr.t.takePendingTrap(th)
		ran = th.state == running
		ev, ok, err = tr.t.waitThread(th)
		require.NoError(t, err)
	}
	require.True(t, pending, "SIGTRAP pending")
	require.True(t, ran, "resumed to take it")
	require.True(t, ok)
	require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: pid, Signal: int(unix.SIGTRAP)}, ev)
	after, err := tr.Registers(pid, pid, false)
	require.NoError(t, err)
	require.Equal(t, pc, after.GPR.Rip, "no instruction ran")
}

// TestBreakpointRemovedWhileOthersHitIt: eight threads hit one breakpoint
// over and over; while the world stops for one hit, others may reach the
// int3 too. Once the breakpoint is removed, none of those hits may come
// back as a SIGTRAP: neither on the next resume nor after a detach.
func TestBreakpointRemovedWhileOthersHitIt(t *testing.T) {
	prog := build(t, "hammer", "-pthread")
	for _, detach := range []bool{false, true} {
		for round := 0; round < 3; round++ {
			tr := newTracer(t)
			pid, _ := launch(t, tr, prog)
			hit := symbol(t, tr, pid, prog, "hit")
			require.NoError(t, tr.InsertBreakpoint(pid, hit))
			for i := 0; i < 3; i++ {
				require.NoError(t, tr.Resume(all))
				ev := wait(t, tr)
				require.Equal(t, inferior.EventBreakpoint, ev.Kind, "event %+v", ev)
			}
			require.NoError(t, tr.RemoveBreakpoint(pid, hit))
			if detach {
				require.NoError(t, tr.Detach(pid))
				var ws unix.WaitStatus
				_, err := unix.Wait4(pid, &ws, 0, nil)
				require.NoError(t, err)
				require.True(t, ws.Exited() && ws.ExitStatus() == 0, "round %d: after detach: %v", round, ws)
				continue
			}
			require.NoError(t, tr.Resume(all))
			require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid}, wait(t, tr), "round %d", round)
			tr.Close()
		}
	}
}
