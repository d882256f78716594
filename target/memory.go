package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// memory reaches one process's address space. Reads and writes go through
// process_vm_readv/process_vm_writev, one system call per contiguous
// range; /proc/PID/mem, which writes with the kernel's force access, takes
// over for what they cannot do: read-only pages (code) and pages without
// read permission.
type memory struct {
	pid int
	f   *os.File // /proc/PID/mem, opened read-write
}

func openMemory(pid int) (*memory, error) {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/mem", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open memory of %d: %w", pid, err)
	}
	return &memory{pid: pid, f: f}, nil
}

func (m *memory) close() error { return m.f.Close() }

// clip shortens a range that would run past the top of the address space.
func clip(addr uint64, n int) int {
	if room := ^uint64(0) - addr + 1; room != 0 && uint64(n) > room {
		return int(room)
	}
	return n
}

// read reads into dst from addr. It returns the number of bytes read from
// the start: short with a nil error where the range runs into memory that
// cannot be read, 0 with an error when addr itself cannot be read.
func (m *memory) read(addr uint64, dst []byte) (int, error) {
	dst = dst[:clip(addr, len(dst))]
	if len(dst) == 0 {
		return 0, nil
	}
	n, err := m.readv(addr, dst)
	if n == len(dst) {
		return n, nil
	}
	if errors.Is(err, unix.ESRCH) {
		return 0, fmt.Errorf("read %#x: %w", addr, err)
	}
	// The rest may still be readable with force access (a page without
	// read permission); /proc/PID/mem stops at the first unmapped page.
	if int64(addr+uint64(n)) >= 0 {
		k, perr := m.f.ReadAt(dst[n:], int64(addr+uint64(n)))
		n += k
		if n == 0 && perr != nil && !errors.Is(perr, io.EOF) {
			err = perr
		}
	}
	if n == 0 {
		if err == nil {
			err = unix.EIO
		}
		return 0, fmt.Errorf("read %#x: %w", addr, err)
	}
	return n, nil
}

// rawReadMax is the largest read made as a raw system call (readv).
const rawReadMax = 4096

// readv is one process_vm_readv of a range. A small one (a variable, a
// word, a stack frame: most of a debugger's reads) is made as a raw
// system call, which the Go scheduler does not see: as a blocking call it
// would wake the runtime's monitor thread, about a third of a thread
// switch per read, measured: an 8-byte m costs 13-16 us of stub CPU this
// way against 20-25 us (gdbserver: 13-14). A raw call holds the
// processor until it returns, which for a page or two is microseconds
// (unless the page must be read back from swap). Larger reads take long
// enough to deserve the scheduler's care.
func (m *memory) readv(addr uint64, dst []byte) (int, error) {
	if len(dst) > rawReadMax {
		n, err := unix.ProcessVMReadv(m.pid,
			[]unix.Iovec{{Base: &dst[0], Len: uint64(len(dst))}},
			[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(dst)}}, 0)
		return max(n, 0), err
	}
	return processVMReadvRaw(m.pid, dst, addr)
}

// write writes src at addr and returns the number of bytes written.
func (m *memory) write(addr uint64, src []byte) (int, error) {
	src = src[:clip(addr, len(src))]
	if len(src) == 0 {
		return 0, nil
	}
	n, err := unix.ProcessVMWritev(m.pid,
		[]unix.Iovec{{Base: &src[0], Len: uint64(len(src))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(src)}}, 0)
	if n < 0 {
		n = 0
	}
	if n == len(src) {
		return n, nil
	}
	if errors.Is(err, unix.ESRCH) {
		return 0, fmt.Errorf("write %#x: %w", addr, err)
	}
	// Read-only pages: write them with force access.
	k, perr := m.forceWrite(addr+uint64(n), src[n:])
	n += k
	if n < len(src) {
		if perr == nil {
			perr = unix.EIO
		}
		return n, fmt.Errorf("write %#x: %w", addr+uint64(n), perr)
	}
	return n, nil
}

func (m *memory) forceWrite(addr uint64, src []byte) (int, error) {
	if int64(addr) < 0 {
		return 0, unix.EIO
	}
	return m.f.WriteAt(src, int64(addr))
}

// ReadAt implements breakpoint.Memory: all of p or an error.
func (m *memory) ReadAt(p []byte, addr uint64) error {
	n, err := m.read(addr, p)
	if err == nil && n < len(p) {
		err = fmt.Errorf("read %#x: %w", addr+uint64(n), unix.EIO)
	}
	return err
}

// WriteAt implements breakpoint.Memory. Breakpoints go into code, which
// is read-only, so it writes with force access straight away.
func (m *memory) WriteAt(p []byte, addr uint64) error {
	n, err := m.forceWrite(addr, p)
	if err == nil && n < len(p) {
		err = unix.EIO
	}
	if err != nil {
		return fmt.Errorf("write %#x: %w", addr, err)
	}
	return nil
}

// iovMax is the most iovecs one process_vm_readv takes (IOV_MAX).
const iovMax = 1024

// readRanges reads each range into dst at the sum of the lengths before
// it and returns how many bytes of each were read from its start. All the
// ranges go to one process_vm_readv (per IOV_MAX of them); the kernel
// stops at the first range it cannot read in full, which is then finished
// with read (and its /proc/PID/mem fallback) and the call goes on with
// the ranges after it. Only a process that is gone is an error.
func (m *memory) readRanges(ranges []inferior.Range, dst []byte, counts []int) error {
	var local [iovMax]unix.Iovec
	var remote [iovMax]unix.RemoteIovec
	offs := make([]int, len(ranges))
	off := 0
	for i, r := range ranges {
		offs[i] = off
		off += r.Len
	}
	for len(ranges) > 0 {
		// One iovec pair per non-empty range, up to iovMax of them.
		k, take := 0, 0
		for ; take < len(ranges) && k < iovMax; take++ {
			r := ranges[take]
			counts[take] = 0
			if n := clip(r.Addr, r.Len); n > 0 {
				local[k] = unix.Iovec{Base: &dst[offs[take]], Len: uint64(n)}
				remote[k] = unix.RemoteIovec{Base: uintptr(r.Addr), Len: n}
				k++
			}
		}
		got := 0
		if k > 0 {
			n, err := unix.ProcessVMReadv(m.pid, local[:k], remote[:k], 0)
			if errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("read %d ranges: %w", k, err)
			}
			got = max(n, 0)
		}
		// The kernel reads the ranges in order and stops at the first
		// one it cannot read in full.
		i := 0
		for ; i < take; i++ {
			n := clip(ranges[i].Addr, ranges[i].Len)
			if got < n {
				break
			}
			counts[i] = n
			got -= n
		}
		if i == take {
			ranges, counts, offs = ranges[take:], counts[take:], offs[take:]
			continue
		}
		// Range i stopped the call: finish it the slow way, which also
		// reads pages without read permission, and go on after it.
		r := ranges[i]
		counts[i], _ = m.read(r.Addr, dst[offs[i]:offs[i]+r.Len])
		ranges, counts, offs = ranges[i+1:], counts[i+1:], offs[i+1:]
	}
	return nil
}

// ReadMemory reads len(dst) bytes at addr in process pid, with the
// original bytes shown under breakpoints. It returns the number of bytes
// read from the start of the range: short, with a nil error, where the
// range runs into unreadable memory; 0 with an error when addr is
// unreadable.
//
// The process may be running: what it reads is then a snapshot taken
// while the program changes it (a client that only watches, such as an
// IDE's memory view beside the debugger that runs the program, or a
// non-stop client, reads this way). The breakpoint table it shadows is
// the loop's, so the bytes under breakpoints are the original ones even
// then.
func (c *Ctl) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	p, err := c.t.lookupLive(pid)
	if err != nil {
		return 0, err
	}
	n, err := p.mem.read(addr, dst)
	p.bps.Shadow(addr, dst[:n])
	return n, err
}

// WriteMemory writes src at addr in process pid, read-only pages
// included, keeping breakpoints in place; src itself is not changed.
func (c *Ctl) WriteMemory(pid int, addr uint64, src []byte) (int, error) {
	p, err := c.t.lookup(pid)
	if err != nil {
		return 0, err
	}
	buf := src
	if p.bps.Len() > 0 {
		buf = slices.Clone(src)
	}
	undo, err := p.bps.PrepareWrite(addr, buf)
	if err != nil {
		return 0, err
	}
	n, err := p.mem.write(addr, buf)
	if err != nil {
		undo()
	}
	return n, err
}

// ReadRanges reads several ranges of process pid with as few
// process_vm_readv calls as the kernel allows (one, unless a range is
// unreadable), each into dst at the sum of the lengths before it, with
// the original bytes shown under breakpoints. It returns per range how
// many bytes were read from its start; only a process that is gone is an
// error. The process may be running, as for ReadMemory.
func (c *Ctl) ReadRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error) {
	p, err := c.t.lookupLive(pid)
	if err != nil {
		return nil, err
	}
	counts := make([]int, len(ranges))
	if err := p.mem.readRanges(ranges, dst, counts); err != nil {
		return counts, err
	}
	off := 0
	for i, r := range ranges {
		p.bps.Shadow(r.Addr, dst[off:off+counts[i]])
		off += r.Len
	}
	return counts, nil
}
