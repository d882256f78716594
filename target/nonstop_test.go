package target

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// readCounters reads nonstop.c's counters.
func readCounters(t *testing.T, tr *Ctl, pid int, at uint64) [4]uint64 {
	t.Helper()
	var b [32]byte
	n, err := tr.ReadMemory(pid, at, b[:])
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	var c [4]uint64
	for i := range c {
		c[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return c
}

// waitCountersMove polls until every counter has gone past before, within
// a bounded time: the counting threads run while the test looks.
func waitCountersMove(t *testing.T, tr *Ctl, pid int, at uint64, before [4]uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := readCounters(t, tr, pid, at)
		moved := true
		for i := range now {
			moved = moved && now[i] > before[i]
		}
		if moved {
			return
		}
		require.True(t, time.Now().Before(deadline), "counters stuck at %v (were %v)", now, before)
		follow(t, tr, 5*time.Millisecond)
	}
}

// follow lets the loop follow the tracees for d: the test's goroutine is
// the loop, and the threads that run need it (a new thread's first stop, a
// clone event).
func follow(t *testing.T, tr *Ctl, d time.Duration) {
	t.Helper()
	err := tr.WaitInput(-1, false, time.Now().Add(d))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

// launchNonStop launches the end-to-end tests' testdata/nonstop.c, in
// non-stop mode, and returns it with the address of its counters.
func launchNonStop(t *testing.T) (tr *Ctl, prog string, pid int, counters uint64) {
	t.Helper()
	prog = build(t, "../../tests/testdata/nonstop", "-pthread")
	tr = newTracer(t)
	pid, _ = launch(t, tr, prog)
	require.NoError(t, tr.SetNonStop(true))
	return tr, prog, pid, symbol(t, tr, pid, prog, "counters")
}

func TestNonStop(t *testing.T) {
	tr, prog, pid, counters := launchNonStop(t)
	hit := symbol(t, tr, pid, prog, "hit")
	quit := symbol(t, tr, pid, prog, "quit")
	require.NoError(t, tr.InsertBreakpoint(pid, hit))
	require.NoError(t, tr.Resume(all))

	// One thread stops at the breakpoint; the counting threads run on,
	// and memory is read while they do.
	ev := wait(t, tr)
	require.Equal(t, inferior.EventBreakpoint, ev.Kind, "%+v", ev)
	hitter := ev.TID
	require.True(t, tr.Stopped(pid, hitter))
	rs, err := tr.Registers(pid, hitter, false)
	require.NoError(t, err)
	require.Equal(t, hit, rs.GPR.Rip)
	waitCountersMove(t, tr, pid, counters, readCounters(t, tr, pid, counters))
	var tids []int
	for deadline := time.Now().Add(10 * time.Second); len(tids) < 7; {
		require.True(t, time.Now().Before(deadline), "threads %v", tids)
		follow(t, tr, time.Millisecond)
		tids, err = tr.Threads(pid)
		require.NoError(t, err)
	}
	running := 0
	for _, tid := range tids {
		if !tr.Stopped(pid, tid) {
			running++
			_, err := tr.Registers(pid, tid, false)
			require.ErrorIs(t, err, inferior.ErrRunning)
		}
	}
	require.Equal(t, 6, running)

	// The hitting thread alone goes on, over the breakpoint, and hits it
	// again; nothing else stops.
	for range 3 {
		require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Continue, PID: pid, TID: hitter}}))
		ev = wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventBreakpoint, PID: pid, TID: hitter}, ev)
	}

	// Stopping every thread reports each running one with signal 0.
	require.NoError(t, tr.Stop(inferior.ThreadID{PID: pid, TID: inferior.All}))
	stopped := map[int]bool{}
	for len(stopped) < 6 {
		ev := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: ev.TID}, ev)
		require.NotEqual(t, hitter, ev.TID)
		stopped[ev.TID] = true
	}
	for _, tid := range tids {
		require.True(t, tr.Stopped(pid, tid), "thread %d", tid)
	}
	before := readCounters(t, tr, pid, counters)

	// An interrupt stops one thread with SIGINT.
	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Continue, PID: pid, TID: tids[1]}}))
	require.NoError(t, tr.Interrupt())
	ev = wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: tids[1], Signal: int(unix.SIGINT)}, ev)

	// The breakpoint goes while the threads run; none reports it after.
	require.NoError(t, tr.Resume(all))
	waitCountersMove(t, tr, pid, counters, before)
	require.NoError(t, tr.RemoveBreakpoint(pid, hit))
	_, err = tr.WriteMemory(pid, quit, []byte{1, 0, 0, 0})
	require.NoError(t, err)
	ev = wait(t, tr)
	if ev.Kind == inferior.EventBreakpoint {
		// Hit before the removal, and reported before it.
		require.NoError(t, tr.Resume(all))
		ev = wait(t, tr)
	}
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid}, ev)
}

func TestNonStopBackToAllStop(t *testing.T) {
	tr, _, pid, counters := launchNonStop(t)
	require.NoError(t, tr.Resume(all))
	waitCountersMove(t, tr, pid, counters, readCounters(t, tr, pid, counters))

	// Back in all-stop mode, every thread is stopped and stays so.
	require.NoError(t, tr.SetNonStop(false))
	tids, err := tr.Threads(pid)
	require.NoError(t, err)
	for _, tid := range tids {
		require.True(t, tr.Stopped(pid, tid), "thread %d", tid)
	}
	c := readCounters(t, tr, pid, counters)
	follow(t, tr, 20*time.Millisecond) // the threads would count meanwhile
	require.Equal(t, c, readCounters(t, tr, pid, counters))

	// An all-stop run and interrupt work as ever.
	require.NoError(t, tr.Resume(all))
	require.NoError(t, tr.Interrupt())
	ev := wait(t, tr)
	require.Equal(t, inferior.EventSignal, ev.Kind)
	require.Equal(t, int(unix.SIGINT), ev.Signal)
	require.False(t, tr.Running())
}
