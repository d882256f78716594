package target

import (
	"bytes"
	"sync"

	"golang.org/x/sys/unix"
)

// coreCache answers "which CPU did this thread last run on" (field 39 of
// /proc/PID/task/TID/stat) for stop replies, which carry it on every stop:
// it keeps each thread's stat file open and reads it with one pread, and
// parses it without allocating. ThreadInfo, which also reads the thread's
// name, costs six system calls and a few allocations instead.
type coreCache struct {
	mu    sync.Mutex
	files map[int]int // file descriptors, by TID
	buf   [1024]byte
}

// maxCoreFiles bounds the open files; past it the cache starts over.
const maxCoreFiles = 256

// core returns the CPU thread tid of process pid last ran on.
func (c *coreCache) core(pid, tid int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fd, ok := c.files[tid]
	if !ok {
		if len(c.files) >= maxCoreFiles {
			c.closeAll()
		}
		fd = -1
		for _, path := range taskPaths(pid, tid, "stat") {
			if f, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				fd = f
				break
			}
		}
		if fd < 0 {
			return -1, false
		}
		if c.files == nil {
			c.files = map[int]int{}
		}
		c.files[tid] = fd
	}
	// One pread: a stat line is far shorter than the buffer, and the
	// kernel makes it whole on every read from offset 0 (os.File.ReadAt
	// would read again to fill the buffer).
	n, err := unix.Pread(fd, c.buf[:], 0)
	if n <= 0 || err != nil {
		// The thread is gone (or its TID was reused by another process's
		// thread, which the next open sees afresh).
		unix.Close(fd)
		delete(c.files, tid)
		return -1, false
	}
	core := statCPU(c.buf[:n])
	return core, core >= 0
}

func (c *coreCache) closeAll() {
	for tid, fd := range c.files {
		unix.Close(fd)
		delete(c.files, tid)
	}
}

// statCPU returns field 39 (processor) of a /proc stat line, or -1,
// without allocating. Fields are counted from the last ')', since the
// command name may hold spaces and parentheses.
func statCPU(stat []byte) int {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	// After ')' come fields 3 (state) onwards, separated by single spaces.
	field, v, digits := 2, 0, 0
	for _, b := range stat[i+1:] {
		switch {
		case b == ' ' || b == '\n':
			if field == 39 && digits > 0 {
				return v
			}
			field++
			v, digits = 0, 0
		case field == 39 && b >= '0' && b <= '9':
			v = v*10 + int(b-'0')
			digits++
		}
	}
	if field == 39 && digits > 0 {
		return v
	}
	return -1
}

// ThreadCore returns the CPU thread tid of process pid last ran on, for
// stop replies: one pread of a kept-open /proc file.
func (c *Ctl) ThreadCore(pid, tid int) (int, bool) {
	return c.t.cores.core(pid, tid)
}
