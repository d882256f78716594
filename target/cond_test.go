package target

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
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

// lineCounter is a command output that cancels a context once it has
// seen enough lines.
type lineCounter struct {
	b      []byte
	want   int
	cancel context.CancelFunc
}

func (w *lineCounter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if bytes.Count(w.b, []byte("\n")) >= w.want {
		w.cancel()
	}
	return len(p), nil
}

// printfHits is agent expression bytecode for printf("hits=%lu\n", hits)
// with the 64-bit variable at addr: the argument, gdb's function and
// channel, then the opcode, one argument and the format with its NUL.
func printfHits(addr uint64) []byte {
	code := binary.BigEndian.AppendUint64([]byte{0x25}, addr)
	code = append(code, 0x1a, 0x22, 0, 0x22, 0)
	format := "hits=%lu\\n\x00"
	code = append(code, 0x34, 1, 0, byte(len(format)))
	return append(append(code, format...), 0x27)
}

// TestBreakpointCommands: a breakpoint with commands prints at each hit
// that counts and never stops the program, which runs on until it is
// interrupted; its conditions choose the hits.
func TestBreakpointCommands(t *testing.T) {
	prog := build(t, "loop")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	hit := symbol(t, tr, pid, prog, "hit")
	hits := symbol(t, tr, pid, prog, "hits")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lineCounter{want: 5, cancel: cancel}
	tr.SetCommandOutput(out)
	require.NoError(t, tr.InsertBreakpoint(pid, hit))
	// Odd counts only: hits & 1.
	odd := binary.BigEndian.AppendUint64([]byte{0x25}, hits)
	odd = append(odd, 0x1a, 0x22, 1, 0x0f, 0x27)
	require.NoError(t, tr.SetBreakpointConditions(pid, hit, [][]byte{odd}))
	require.NoError(t, tr.SetBreakpointCommands(pid, hit, [][]byte{printfHits(hits)}, false))
	require.NoError(t, tr.Resume(all))
	_, err := tr.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled, "the program never stopped")
	require.NoError(t, tr.Interrupt())
	require.Equal(t, inferior.EventSignal, wait(t, tr).Kind)
	lines := strings.Split(strings.TrimSuffix(string(out.b), "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 5)
	for i, l := range lines {
		require.Equal(t, fmt.Sprintf("hits=%d", 2*i+1), l, "line %d of\n%s", i+1, out.b)
	}
}
