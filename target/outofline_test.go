package target

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// equals16 returns an agent expression that is true when the 64-bit
// variable at addr equals n: const64 addr, ref64, const16 n, equal, end.
func equals16(addr uint64, n uint16) []byte {
	code := binary.BigEndian.AppendUint64([]byte{0x25}, addr)
	code = append(code, 0x1a, 0x23)
	code = binary.BigEndian.AppendUint16(code, n)
	return append(code, 0x13, 0x27)
}

// ripRelative returns the address of the first instruction of the
// function at fn that has a RIP-relative memory operand.
func ripRelative(t *testing.T, tr *Ctl, pid int, fn uint64) uint64 {
	t.Helper()
	code := make([]byte, 64)
	_, err := tr.ReadMemory(pid, fn, code)
	require.NoError(t, err)
	for off := 0; off < len(code); {
		in, err := x86asm.Decode(code[off:], 64)
		require.NoError(t, err)
		for _, a := range in.Args {
			if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
				return fn + uint64(off)
			}
		}
		off += in.Len
	}
	t.Fatalf("no RIP-relative instruction in the function at %#x", fn)
	return 0
}

// scratchPages counts the anonymous executable pages of process pid:
// procgdb's scratch pages (the program maps none).
func scratchPages(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(procPath(pid, "maps"))
	require.NoError(t, err)
	ms, err := parseMaps(b)
	require.NoError(t, err)
	n := 0
	for _, m := range ms {
		if m.Executable() && m.Path == "" && m.End-m.Start == pageSize {
			n++
		}
	}
	return n
}

// TestStepAside: a breakpoint on an instruction with a RIP-relative
// operand, whose condition is false thousands of times, is passed out of
// line: the instruction's effect is exact (the program's count), the
// other threads are stopped only for the reported stops (each of which
// interrupts the waiter's epoll_wait, as the interrupts at the end show),
// one scratch page serves, and a detach unmaps it.
func TestStepAside(t *testing.T) {
	prog := build(t, "../../tests/testdata/busyhits", "-pthread")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog, "0")
	hits := symbol(t, tr, pid, prog, "hits")
	eintrs := symbol(t, tr, pid, prog, "eintrs")
	counters := symbol(t, tr, pid, prog, "counters")
	at := ripRelative(t, tr, pid, symbol(t, tr, pid, prog, "hit"))
	require.NoError(t, tr.InsertBreakpoint(pid, at))
	stopAt := func(n uint16) {
		t.Helper()
		require.NoError(t, tr.SetBreakpointConditions(pid, at, [][]byte{equals16(hits, n)}))
		require.NoError(t, tr.Resume(all))
		require.Equal(t, inferior.Event{Kind: inferior.EventBreakpoint, PID: pid, TID: pid}, wait(t, tr))
		require.Equal(t, uint64(n), readUint64(t, tr, pid, hits))
	}
	stopAt(3000)
	// Each reported stop stops the waiter once, no more.
	e := readUint64(t, tr, pid, eintrs)
	c := readUint64(t, tr, pid, counters)
	stopAt(6000)
	require.LessOrEqual(t, readUint64(t, tr, pid, eintrs), e+1, "the waiter thread was stopped at passes")
	require.Equal(t, 1, scratchPages(t, pid))

	// Stops of every thread do interrupt the waiter, and the busy
	// threads run on (the passes above may be over before they were
	// scheduled at all).
	require.NoError(t, tr.RemoveBreakpoint(pid, at))
	e = readUint64(t, tr, pid, eintrs)
	for i := 0; i < 1000 && (readUint64(t, tr, pid, eintrs) < e+3 || readUint64(t, tr, pid, counters) == c); i++ {
		require.NoError(t, tr.Resume(all))
		require.NoError(t, tr.Interrupt())
		require.Equal(t, inferior.EventSignal, wait(t, tr).Kind)
	}
	require.GreaterOrEqual(t, readUint64(t, tr, pid, eintrs), e+3, "stops do not show")
	require.Greater(t, readUint64(t, tr, pid, counters), c, "a busy thread made no progress")

	require.NoError(t, tr.Detach(pid))
	require.Zero(t, scratchPages(t, pid))
	require.NoError(t, unix.Kill(pid, unix.SIGKILL))
}

// TestStepAsideFork: a forked child inherits its parent's scratch page
// and passes the breakpoint out of line with it, without mapping another;
// detaching the child unmaps the page in the child only.
func TestStepAsideFork(t *testing.T) {
	prog := build(t, "../../tests/testdata/busyhits", "-pthread")
	tr := newTracer(t)
	tr.SetEventOptions(inferior.EventOptions{Fork: true})
	pid, _ := launch(t, tr, prog, "0", "2", "fork")
	hits := symbol(t, tr, pid, prog, "hits")
	at := ripRelative(t, tr, pid, symbol(t, tr, pid, prog, "hit"))
	require.NoError(t, tr.InsertBreakpoint(pid, at))
	require.NoError(t, tr.SetBreakpointConditions(pid, at, [][]byte{equals16(hits, 2000)}))
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventFork, ev.Kind)
	child := ev.ChildPID
	require.Equal(t, 1, scratchPages(t, child))
	// The child has the breakpoint, its conditions with it.
	stopped := map[int]bool{}
	for len(stopped) < 2 {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, inferior.EventBreakpoint, ev.Kind, "%+v", ev)
		require.Equal(t, uint64(2000), readUint64(t, tr, ev.PID, hits))
		stopped[ev.PID] = true
		require.NoError(t, tr.SetBreakpointConditions(ev.PID, at, [][]byte{equals16(hits, 0)}))
	}
	require.Equal(t, 1, scratchPages(t, pid))
	require.Equal(t, 1, scratchPages(t, child))
	require.NoError(t, tr.Detach(child))
	require.Zero(t, scratchPages(t, child))
	require.Equal(t, 1, scratchPages(t, pid))
	var code [1]byte
	_, err := tr.ReadMemory(pid, at, code[:])
	require.NoError(t, err)
	require.False(t, bytes.Equal(code[:], []byte{0xcc}), "the breakpoint shows")
	require.NoError(t, unix.Kill(child, unix.SIGKILL))
}

// TestStepAsideCodeChanged: the copy of an instruction stepped out of line
// is written again when the code under the breakpoint changes (the client
// writes it): the new instruction runs, not the old one.
func TestStepAsideCodeChanged(t *testing.T) {
	prog := build(t, "../../tests/testdata/busyhits", "-pthread")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog, "0", "0")
	hits := symbol(t, tr, pid, prog, "hits")
	at := ripRelative(t, tr, pid, symbol(t, tr, pid, prog, "hit"))
	require.NoError(t, tr.InsertBreakpoint(pid, at))
	require.NoError(t, tr.SetBreakpointConditions(pid, at, [][]byte{equals16(hits, 1000)}))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	// hit()'s load of hits becomes mov $5, %rax (as long): hits is 6
	// after the next call. The old copy would count on to 1010.
	var code [7]byte
	_, err := tr.ReadMemory(pid, at, code[:])
	require.NoError(t, err)
	require.Equal(t, []byte{0x48, 0x8b, 0x05}, code[:3], "not mov disp32(%%rip), %%rax")
	_, err = tr.WriteMemory(pid, at, []byte{0x48, 0xc7, 0xc0, 5, 0, 0, 0})
	require.NoError(t, err)
	require.NoError(t, tr.SetBreakpointConditions(pid, at, [][]byte{equals16(hits, 6), equals16(hits, 1010)}))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	require.Equal(t, uint64(6), readUint64(t, tr, pid, hits))
}

func TestHoleIn(t *testing.T) {
	ms := []Mapping{
		{Start: 0x400000, End: 0x402000},
		{Start: 0x403000, End: 0x500000},
		{Start: 0x7f0000000000, End: 0x7f0000001000},
	}
	for _, c := range []struct {
		first, last, want uint64
		found             bool
	}{
		{0x400000, 0x401fff, 0, false},       // mapped
		{0x400123, 0x402fff, 0x402000, true}, // the page between
		{0x402800, 0x402900, 0x402000, true}, // inside it
		{0x401800, 0x5fffff, 0x402000, true}, // the first
		{0x4ff000, 0x500010, 0x500000, true}, // after the mapping
		{0x10, 0x2000, 0, false},             // below mmap_min_addr
		{0x7effffffff00, 0x7f0000000fff, 0x7efffffff000, true},
		{0x7f0000000000, 0x7f0000000fff, 0, false},
		{1 << 47, 1<<47 + 0x10000, 0, false}, // beyond user space
	} {
		got, found := holeIn(ms, c.first, c.last)
		require.Equal(t, c.found, found, "[%#x, %#x]", c.first, c.last)
		require.Equal(t, c.want, got, "[%#x, %#x]", c.first, c.last)
	}
}
