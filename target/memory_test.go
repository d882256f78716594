package target

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
	"procgdb/regs"
)

// stopAtWork launches basic, stops it at work() with a breakpoint there,
// and returns its pid, the address of work and the page edge.
func stopAtWork(t testing.TB, tr *Ctl) (pid int, work, edge uint64) {
	prog := build(t.(*testing.T), "basic")
	pid, _ = launch(t.(*testing.T), tr, prog)
	work = symbol(t.(*testing.T), tr, pid, prog, "work")
	require.NoError(t, tr.InsertBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t.(*testing.T), tr).Kind)
	var p [8]byte
	_, err := tr.ReadMemory(pid, symbol(t.(*testing.T), tr, pid, prog, "edge"), p[:])
	require.NoError(t, err)
	return pid, work, binary.LittleEndian.Uint64(p[:])
}

func TestReadRanges(t *testing.T) {
	tr := newTracer(t)
	pid, work, edge := stopAtWork(t, tr)

	var code [4]byte
	_, err := tr.ReadMemory(pid, work, code[:])
	require.NoError(t, err)
	require.NotEqual(t, byte(0xcc), code[0], "ReadMemory shows the original byte")

	ranges := []inferior.Range{
		{Addr: work, Len: 4},       // code, under a breakpoint
		{Addr: edge, Len: 16},      // 8 readable bytes, then an unmapped page
		{Addr: 0, Len: 8},          // unreadable
		{Addr: edge - 8, Len: 0},   // empty
		{Addr: edge - 16, Len: 16}, // readable after the failures
	}
	dst := bytes.Repeat([]byte{0x55}, 4+16+8+0+16)
	counts, err := tr.ReadRanges(pid, ranges, dst)
	require.NoError(t, err)
	require.Equal(t, []int{4, 8, 0, 0, 16}, counts)
	require.Equal(t, code[:], dst[:4], "breakpoint shadowed")
	require.Equal(t, bytes.Repeat([]byte{0xab}, 8), dst[4:12])
	require.Equal(t, bytes.Repeat([]byte{0xab}, 16), dst[28:44])

	// Many ranges: more than one process_vm_readv's IOV_MAX.
	many := make([]inferior.Range, 3000)
	for i := range many {
		many[i] = inferior.Range{Addr: edge - 8 + uint64(i%8), Len: 1}
	}
	counts, err = tr.ReadRanges(pid, many, make([]byte, len(many)))
	require.NoError(t, err)
	for i, n := range counts {
		require.Equal(t, 1, n, "range %d", i)
	}

	_, err = tr.ReadRanges(pid+100000, ranges, dst)
	require.ErrorIs(t, err, inferior.ErrNoProcess)
	require.NoError(t, tr.Kill(pid))
}

// bigSource maps 64 MiB, fills it and stops with SIGTRAP, for the
// benchmarks: its address is in rdi at the stop.
const bigSource = `
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
int main(void) {
	char *p = mmap(0, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0x5a, 64 << 20);
	register char *q asm("rdi") = p;
	asm volatile("int3" : : "r"(q));
	return 0;
}
`

// stoppedBig starts bigSource and returns its pid and the address of its
// 64 MiB mapping, stopped.
func stoppedBig(b *testing.B) (*Ctl, int, uint64) {
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skip("gcc not installed")
	}
	dir := b.TempDir()
	src, prog := filepath.Join(dir, "big.c"), filepath.Join(dir, "big")
	require.NoError(b, os.WriteFile(src, []byte(bigSource), 0o644))
	out, err := exec.Command("gcc", "-O1", "-o", prog, src).CombinedOutput()
	require.NoError(b, err, "gcc: %s", out)
	layout, err := regs.HostLayout()
	require.NoError(b, err)
	tr := NewTracer(layout, nil).Ctl()
	b.Cleanup(func() { tr.Close() })
	pid, err := tr.Launch(LaunchOptions{Path: prog, Args: []string{prog}})
	require.NoError(b, err)
	require.NoError(b, tr.Resume(all))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := tr.Wait(ctx)
	require.NoError(b, err)
	require.Equal(b, inferior.EventSignal, ev.Kind)
	s, err := tr.Registers(pid, pid, false)
	require.NoError(b, err)
	return tr, pid, s.GPR.Rdi
}

// BenchmarkReadMemory reads a stopped child's memory through the tracer,
// 1 MiB (a packet's worth) per operation: one process_vm_readv on the
// tracer thread.
func BenchmarkReadMemory(b *testing.B) {
	tr, pid, base := stoppedBig(b)
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	off := uint64(0)
	for b.Loop() {
		n, err := tr.ReadMemory(pid, base+off, buf)
		if err != nil || n != len(buf) || buf[0] != 0x5a {
			b.Fatalf("read %d, %v", n, err)
		}
		off = (off + uint64(len(buf))) % (64 << 20)
	}
}

// BenchmarkReadMemorySmall is one 8-byte read: the cost of a round trip
// to the loop and one system call.
func BenchmarkReadMemorySmall(b *testing.B) {
	tr, pid, base := stoppedBig(b)
	var buf [8]byte
	for b.Loop() {
		if _, err := tr.ReadMemory(pid, base+4096, buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRanges reads 1,000 scattered 8-byte ranges per operation
// with one ReadRanges call.
func BenchmarkReadRanges(b *testing.B) {
	tr, pid, base := stoppedBig(b)
	ranges := make([]inferior.Range, 1000)
	for i := range ranges {
		ranges[i] = inferior.Range{Addr: base + uint64(i)*65521%(64<<20-8), Len: 8}
	}
	dst := make([]byte, 8*len(ranges))
	for b.Loop() {
		if _, err := tr.ReadRanges(pid, ranges, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisters reads the general registers of a stopped thread
// after a stop: the first read fills the cache (PTRACE_GETREGS), the rest
// are served from it.
func BenchmarkRegisters(b *testing.B) {
	tr, pid, _ := stoppedBig(b)
	for b.Loop() {
		if _, err := tr.Registers(pid, pid, false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStatCPU(t *testing.T) {
	line := "123 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 7 37 38\n"
	if got := statCPU([]byte(line)); got != 7 {
		t.Errorf("statCPU = %d, want 7", got)
	}
	if got := statCPU([]byte("1 (x) S 1 2")); got != -1 {
		t.Errorf("statCPU of a short line = %d, want -1", got)
	}
	self, err := os.ReadFile("/proc/self/stat")
	require.NoError(t, err)
	require.Equal(t, statProcessor(self), statCPU(self))
}

// statProcessor, the test's reference for statCPU, returns field 39 (processor) of a /proc stat line, or -1.
// The comm field may hold spaces and parentheses, so fields are counted
// from the last ')'.
func statProcessor(stat []byte) int {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); processor is field 39.
	if len(f) < 37 {
		return -1
	}
	n, err := strconv.Atoi(f[36])
	if err != nil {
		return -1
	}
	return n
}

// TestReadMemoryWhileRunning: memory reads work while the program runs
// (for a client that only watches, beside the one that runs it), through
// Do from another goroutine, with breakpoints shadowed; what needs the
// threads stopped (registers, writes) is still refused.
func TestReadMemoryWhileRunning(t *testing.T) {
	prog := build(t, "spin")
	tracer, tr := newTracerHandle(t)
	pid, _ := launch(t, tr, prog)
	spins := symbol(t, tr, pid, prog, "spins")
	step := symbol(t, tr, pid, prog, "step")
	var code [1]byte
	_, err := tr.ReadMemory(pid, step, code[:])
	require.NoError(t, err)
	require.NoError(t, tr.InsertBreakpoint(pid, step)) // never hit: spin runs without arguments
	require.NoError(t, tr.Resume(all))

	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		counts   [2]uint64
		code     byte
		ranges   []int
		regsErr  error
		writeErr error
		err      error
	}
	done := make(chan result, 1)
	go func() {
		defer cancel()
		var r result
		read := func() (uint64, error) {
			var b [8]byte
			err := tracer.Do(func(c *Ctl) error {
				_, err := c.ReadMemory(pid, spins, b[:])
				return err
			})
			return binary.LittleEndian.Uint64(b[:]), err
		}
		// The counter moves between two reads: the program runs.
		deadline := time.Now().Add(20 * time.Second)
		for r.counts[1] <= r.counts[0] && r.err == nil && time.Now().Before(deadline) {
			if r.counts[0], r.err = read(); r.err == nil {
				r.counts[1], r.err = read()
			}
		}
		if r.err == nil {
			r.err = tracer.Do(func(c *Ctl) error {
				var b [1]byte
				if _, err := c.ReadMemory(pid, step, b[:]); err != nil {
					return err
				}
				r.code = b[0]
				dst := make([]byte, 9)
				var err error
				r.ranges, err = c.ReadRanges(pid, []inferior.Range{{Addr: step, Len: 1}, {Addr: spins, Len: 8}}, dst)
				if err == nil && dst[0] != code[0] {
					err = fmt.Errorf("ReadRanges shows %#x under the breakpoint, want %#x", dst[0], code[0])
				}
				_, r.regsErr = c.Registers(pid, pid, false)
				_, r.writeErr = c.WriteMemory(pid, spins, []byte{0})
				return err
			})
		}
		done <- r
	}()
	_, err = tr.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	r := <-done
	require.NoError(t, r.err)
	require.Greater(t, r.counts[1], r.counts[0], "the counter moves while the program runs")
	require.Equal(t, code[0], r.code, "the original byte under the breakpoint")
	require.Equal(t, []int{1, 8}, r.ranges)
	require.ErrorIs(t, r.regsErr, inferior.ErrRunning)
	require.ErrorIs(t, r.writeErr, inferior.ErrRunning)

	require.NoError(t, tr.Interrupt())
	require.Equal(t, inferior.EventSignal, wait(t, tr).Kind)
}
