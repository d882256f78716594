package target

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// needDebugRegisters skips a test of the debug registers where this
// machine does not deliver their traps, with the probe's reason.
func needDebugRegisters(t *testing.T) {
	t.Helper()
	if ok, reason := probeOnce(); !ok {
		t.Skipf("debug registers do not trap on this machine: %s", reason)
	}
}

var probeOnce = sync.OnceValues(ProbeDebugRegisters)

func TestHardwareBreakpointsAndWatchpoints(t *testing.T) {
	needDebugRegisters(t)
	prog := build(t, "loop")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	hits := symbol(t, tr, pid, prog, "hits")

	// An instruction breakpoint stops before hit runs, and again on the
	// next call: resuming runs the instruction it stopped at.
	exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: hit, Len: 1}
	require.NoError(t, tr.InsertHWPoint(pid, exec))
	for range 3 {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventHWBreakpoint, PID: pid, TID: pid, HW: exec}, ev)
		s, err := tr.Registers(pid, pid, false)
		require.NoError(t, err)
		require.Equal(t, hit, s.GPR.Rip)
	}
	require.NoError(t, tr.RemoveHWPoint(pid, exec))
	require.Error(t, tr.RemoveHWPoint(pid, exec))

	// A write watchpoint stops after each write of hits, with the new
	// value in memory; a single step over the write reports it too.
	watch := inferior.HWPoint{Kind: inferior.HWWrite, Addr: hits, Len: 8}
	require.NoError(t, tr.InsertHWPoint(pid, watch))
	var last uint64
	for i := range 3 {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventWatchpoint, PID: pid, TID: pid, HW: watch}, ev)
		n := readUint64(t, tr, pid, hits)
		if i > 0 {
			require.Equal(t, last+1, n)
		}
		last = n
	}
	stepToWatch(t, tr, pid, watch)
	require.Equal(t, last+1, readUint64(t, tr, pid, hits))

	// Let go with a watchpoint set, the process runs on without a trap
	// (which would kill it, with no tracer to take it).
	detachRunsOn(t, tr, pid, hits, last+1000)
}

// A watchpoint takes effect in threads that start after it is set.
func TestWatchpointInNewThreads(t *testing.T) {
	needDebugRegisters(t)
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	total := symbol(t, tr, pid, prog, "total")
	watch := inferior.HWPoint{Kind: inferior.HWWrite, Addr: total, Len: 4}
	require.NoError(t, tr.InsertHWPoint(pid, watch))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventWatchpoint, ev.Kind, "%+v", ev)
	require.NotEqual(t, pid, ev.TID, "a worker thread writes total")
}

// Without debug registers, a write watchpoint is emulated: it stops after
// each write, also when the program is single-stepped; hardware
// breakpoints and access watchpoints are refused, and the program runs on
// after a detach.
func TestEmulatedWatchpoints(t *testing.T) {
	prog := build(t, "loop")
	tr := newTracer(t)
	tr.SetDebugRegisters(false)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	hits := symbol(t, tr, pid, prog, "hits")
	require.False(t, tr.HWSupport(inferior.HWExec))
	require.False(t, tr.HWSupport(inferior.HWAccess))
	require.True(t, tr.HWSupport(inferior.HWWrite))
	require.ErrorIs(t, tr.InsertHWPoint(pid, inferior.HWPoint{Kind: inferior.HWExec, Addr: hit, Len: 1}), ErrNoDebugRegisters)
	require.ErrorIs(t, tr.InsertHWPoint(pid, inferior.HWPoint{Kind: inferior.HWAccess, Addr: hits, Len: 8}), ErrNoDebugRegisters)

	// Stepping starts where the program is interesting, past the
	// dynamic linker.
	require.NoError(t, tr.InsertBreakpoint(pid, hit))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)

	watch := inferior.HWPoint{Kind: inferior.HWWrite, Addr: hits, Len: 8}
	require.NoError(t, tr.InsertHWPoint(pid, watch))
	last := readUint64(t, tr, pid, hits)
	// Over the breakpoint it sits on, then to the write; the breakpoint
	// still stops it on the next call, and the write after that.
	for _, want := range []inferior.EventKind{inferior.EventWatchpoint, inferior.EventBreakpoint, inferior.EventWatchpoint} {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, want, ev.Kind, "%+v", ev)
		require.Equal(t, pid, ev.TID)
		if want == inferior.EventWatchpoint {
			require.Equal(t, watch, ev.HW)
			last++
			require.Equal(t, last, readUint64(t, tr, pid, hits))
		}
	}
	require.NoError(t, tr.RemoveBreakpoint(pid, hit))
	// A write by the stub is not the program's.
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 1000)
	_, err := tr.WriteMemory(pid, hits, b[:])
	require.NoError(t, err)
	stepToWatch(t, tr, pid, watch)
	require.Equal(t, uint64(1001), readUint64(t, tr, pid, hits))

	detachRunsOn(t, tr, pid, hits, 2000)
}

// An emulated write watchpoint stops the thread that writes, in threads
// created after it was set too.
func TestEmulatedWatchpointInNewThreads(t *testing.T) {
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	tr.SetDebugRegisters(false)
	pid, _ := launch(t, tr, prog)
	main := symbol(t, tr, pid, prog, "main")
	require.NoError(t, tr.InsertBreakpoint(pid, main))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	require.NoError(t, tr.RemoveBreakpoint(pid, main))
	total := symbol(t, tr, pid, prog, "total")
	require.NoError(t, tr.InsertHWPoint(pid, inferior.HWPoint{Kind: inferior.HWWrite, Addr: total, Len: 4}))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventWatchpoint, ev.Kind, "%+v", ev)
	require.NotEqual(t, pid, ev.TID, "a worker thread writes total")
}

// stepToWatch single-steps the process until the watchpoint stops it.
func stepToWatch(t *testing.T, tr *Ctl, pid int, watch inferior.HWPoint) {
	t.Helper()
	step := []inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid}}
	for {
		require.NoError(t, tr.Resume(step))
		ev := wait(t, tr)
		if ev.Kind == inferior.EventWatchpoint {
			require.Equal(t, watch, ev.HW)
			return
		}
		require.Equal(t, inferior.EventStep, ev.Kind)
	}
}

// detachRunsOn detaches the loop program and checks that it runs on
// (a trap with no tracer to take it would kill it): its counter at addr
// goes beyond n.
func detachRunsOn(t *testing.T, tr *Ctl, pid int, addr, n uint64) {
	t.Helper()
	require.NoError(t, tr.Detach(pid))
	t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var b [8]byte
		_, err := unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &b[0], Len: 8}},
			[]unix.RemoteIovec{{Base: uintptr(addr), Len: 8}}, 0)
		require.NoError(t, err, "the process is gone")
		if binary.LittleEndian.Uint64(b[:]) > n {
			return
		}
		require.True(t, time.Now().Before(deadline), "the process does not run")
		time.Sleep(time.Millisecond) // polling a condition, bounded above
	}
}

func readUint64(t *testing.T, tr *Ctl, pid int, addr uint64) uint64 {
	t.Helper()
	var b [8]byte
	_, err := tr.ReadMemory(pid, addr, b[:])
	require.NoError(t, err)
	return binary.LittleEndian.Uint64(b[:])
}
