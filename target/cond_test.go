package target

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
)

// hitsEqual returns an agent expression that is true when the 64-bit
// variable at addr equals n: const64 addr, ref64, const8 n, equal, end.
func hitsEqual(addr uint64, n byte) []byte {
	code := []byte{0x25}
	code = binary.BigEndian.AppendUint64(code, addr)
	return append(code, 0x1a, 0x22, n, 0x13, 0x27)
}

// TestConditionalBreakpoints: a software or hardware breakpoint with
// conditions stops the program only when one of them holds, or when one
// cannot be evaluated; new conditions replace the old, and none make the
// breakpoint stop at every hit again.
func TestConditionalBreakpoints(t *testing.T) {
	for _, hardware := range []bool{false, true} {
		name := "software"
		if hardware {
			name = "hardware"
		}
		t.Run(name, func(t *testing.T) {
			prog := build(t, "loop")
			tr := newTracer(t)
			pid, _ := launch(t, tr, prog)
			hit := symbol(t, tr, pid, prog, "hit")
			hits := symbol(t, tr, pid, prog, "hits")
			set := func(conds ...[]byte) {
				t.Helper()
				if hardware {
					require.NoError(t, tr.SetHWBreakpointConditions(pid, hit, conds))
				} else {
					require.NoError(t, tr.SetBreakpointConditions(pid, hit, conds))
				}
			}
			want := inferior.Event{Kind: inferior.EventBreakpoint, PID: pid, TID: pid}
			if hardware {
				exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: hit, Len: 1}
				require.NoError(t, tr.InsertHWPoint(pid, exec))
				want = inferior.Event{Kind: inferior.EventHWBreakpoint, PID: pid, TID: pid, HW: exec}
			} else {
				require.NoError(t, tr.InsertBreakpoint(pid, hit))
			}
			stopsAt := func(n uint64) {
				t.Helper()
				require.NoError(t, tr.Resume(all))
				require.Equal(t, want, wait(t, tr))
				require.Equal(t, n, readUint64(t, tr, pid, hits))
				s, err := tr.Registers(pid, pid, false)
				require.NoError(t, err)
				require.Equal(t, hit, s.GPR.Rip)
			}
			set(hitsEqual(hits, 5))
			stopsAt(5)
			set(hitsEqual(hits, 7), hitsEqual(hits, 9))
			stopsAt(7)
			stopsAt(9)
			set()
			stopsAt(10)
			stopsAt(11)
			set([]byte{0x22, 0, 0x1a, 0x27}) // reads address 0: counts as true
			stopsAt(12)
		})
	}
}
