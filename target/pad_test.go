package target

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// TestPadStops: threads that pass a breakpoint with a false condition in
// the process (a pad) are stopped again and again, in all-stop mode, by
// another thread's breakpoint, wherever they are in the pad: every
// stopped thread's PC must be in the program's code, never in a scratch
// page, and the program must run on unharmed each time.
//
// In "short instruction", the breakpoint's instruction is shorter than
// the jump, which ends with the next instruction's bytes, left as they
// are: threads stop there too.
func TestPadStops(t *testing.T) {
	prog := build(t, "../../tests/testdata/padthreads", "-pthread")
	t.Run("load", func(t *testing.T) { testPadStops(t, prog, "") })
	t.Run("short instruction", func(t *testing.T) { testPadStops(t, prog, "short") })
}

func testPadStops(t *testing.T, prog, arg string) {
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog, "4", arg)
	hits := symbol(t, tr, pid, prog, "hits")
	at := symbol(t, tr, pid, prog, "hit_short")
	if arg == "" {
		at = ripRelative(t, tr, pid, symbol(t, tr, pid, prog, "hit"))
	}
	tick := symbol(t, tr, pid, prog, "tick")
	require.NoError(t, tr.InsertBreakpoint(pid, at))
	require.NoError(t, tr.SetBreakpointConditions(pid, at, [][]byte{equals16(hits, 0xffff)}))
	require.NoError(t, tr.InsertBreakpoint(pid, tick))

	scratch := func() [][2]uint64 {
		var pages [][2]uint64
		for _, page := range tr.t.procs[pid].scratch.pages {
			pages = append(pages, [2]uint64{page, page + pageSize})
		}
		return pages
	}
	padded := false
	for i := 0; i < 300; i++ {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, inferior.EventBreakpoint, ev.Kind, "stop %d: %+v", i, ev)
		tids, err := tr.Threads(pid)
		require.NoError(t, err)
		pages := scratch()
		for _, tid := range tids {
			rs, err := tr.Registers(pid, tid, false)
			require.NoError(t, err)
			for _, p := range pages {
				require.False(t, rs.GPR.Rip >= p[0] && rs.GPR.Rip < p[1], "stop %d: thread %d stopped at %#x, in the scratch page at %#x", i, tid, rs.GPR.Rip, p[0])
			}
		}
		padded = padded || tr.t.procs[pid].bps.Patched(at)
	}
	// (The threads' increments race: the count may step back a little.)
	before := readUint64(t, tr, pid, hits)
	require.True(t, padded, "the condition never ran in the process")
	mem, err := os.Open(procPath(pid, "mem"))
	require.NoError(t, err)
	defer mem.Close()
	if arg == "short" {
		// The jump, over mov %rdi,%rax and the first two bytes of the
		// movslq after it, left as they were.
		var b [6]byte
		_, err := mem.ReadAt(b[:], int64(at))
		require.NoError(t, err)
		require.Equal(t, []byte{0xe9, 0x48, 0x63, 0xd0}, []byte{b[0], b[3], b[4], b[5]}, "% x", b)
	}
	require.NoError(t, tr.Detach(pid))
	require.Zero(t, scratchPages(t, pid))
	// Detached, the program runs on its own code: its threads go on
	// calling hit(), and it does not crash.
	var b [8]byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := mem.ReadAt(b[:], int64(hits))
		require.NoError(t, err, "the program ended after the detach")
		if binary.LittleEndian.Uint64(b[:]) > before+1000 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the program's threads made no progress after the detach")
		runtime.Gosched()
	}
	require.NoError(t, unix.Kill(pid, unix.SIGKILL))
}
