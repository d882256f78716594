package target

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
)

func TestHardwareBreakpointsAndWatchpoints(t *testing.T) {
	prog := build(t, "loop")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	hits := symbol(t, tr, pid, prog, "hits")

	// An instruction breakpoint stops before hit runs, and again on the
	// next call: resuming runs the instruction it stopped at.
	exec := breakpoint.HWPoint{Kind: breakpoint.HWExec, Addr: hit, Len: 1}
	require.NoError(t, tr.InsertHWPoint(pid, exec))
	for range 3 {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, Event{Kind: EventHWBreakpoint, PID: pid, TID: pid, HW: exec}, ev)
		s, err := tr.Registers(pid, pid, false)
		require.NoError(t, err)
		require.Equal(t, hit, s.GPR.Rip)
	}
	require.NoError(t, tr.RemoveHWPoint(pid, exec))
	require.Error(t, tr.RemoveHWPoint(pid, exec))

	// A write watchpoint stops after each write of hits, with the new
	// value in memory; a single step over the write reports it too.
	watch := breakpoint.HWPoint{Kind: breakpoint.HWWrite, Addr: hits, Len: 8}
	require.NoError(t, tr.InsertHWPoint(pid, watch))
	var last uint64
	for i := range 3 {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, Event{Kind: EventWatchpoint, PID: pid, TID: pid, HW: watch}, ev)
		n := readUint64(t, tr, pid, hits)
		if i > 0 {
			require.Equal(t, last+1, n)
		}
		last = n
	}
	step := []Action{{Kind: ActionStep, PID: pid, TID: pid}}
	for {
		require.NoError(t, tr.Resume(step))
		ev := wait(t, tr)
		if ev.Kind == EventWatchpoint {
			require.Equal(t, watch, ev.HW)
			break
		}
		require.Equal(t, EventStep, ev.Kind)
	}
	require.Equal(t, last+1, readUint64(t, tr, pid, hits))

	// Let go with a watchpoint set, the process runs on without a trap
	// (which would kill it, with no tracer to take it).
	require.NoError(t, tr.Detach(pid))
	t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var b [8]byte
		_, err := unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &b[0], Len: 8}},
			[]unix.RemoteIovec{{Base: uintptr(hits), Len: 8}}, 0)
		require.NoError(t, err, "the process is gone")
		if binary.LittleEndian.Uint64(b[:]) > last+1000 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the process does not run")
		time.Sleep(time.Millisecond) // polling a condition, bounded above
	}
}

// A watchpoint takes effect in threads that start after it is set.
func TestWatchpointInNewThreads(t *testing.T) {
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	total := symbol(t, tr, pid, prog, "total")
	watch := breakpoint.HWPoint{Kind: breakpoint.HWWrite, Addr: total, Len: 4}
	require.NoError(t, tr.InsertHWPoint(pid, watch))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, EventWatchpoint, ev.Kind, "%+v", ev)
	require.NotEqual(t, pid, ev.TID, "a worker thread writes total")
}

func readUint64(t *testing.T, tr *Tracer, pid int, addr uint64) uint64 {
	t.Helper()
	var b [8]byte
	_, err := tr.ReadMemory(pid, addr, b[:])
	require.NoError(t, err)
	return binary.LittleEndian.Uint64(b[:])
}
