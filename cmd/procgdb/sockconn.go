package main

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockConn is a client socket whose reads and writes are tried first as
// raw system calls. The net package keeps the socket non-blocking, so
// such a call never waits: it moves what it can or says EAGAIN, and only
// then does the net package's poller wait for the socket. A request and
// its reply are each one short read or write, so the common case costs
// the system call alone: the Go scheduler does not see a blocking system
// call, the runtime's monitor thread does not take the processor away
// from it and wake another thread, and the monitor can sleep (about one
// thread switch less per packet on a 2-core VM; BENCHMARKS.md).
// Deadlines and Close work as on the net.Conn, which it embeds.
type sockConn struct {
	net.Conn
	raw syscall.RawConn
}

// newSockConn wraps c when it is a socket.
func newSockConn(c net.Conn) conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &sockConn{Conn: c, raw: raw}
}

func (c *sockConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno unix.Errno
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if e == unix.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != unix.EAGAIN
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Addr: c.RemoteAddr(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *sockConn) Write(p []byte) (int, error) {
	done := 0
	var errno unix.Errno
	err := c.raw.Write(func(fd uintptr) bool {
		for done < len(p) {
			r, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
			switch e {
			case 0:
				done += int(r)
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = &net.OpError{Op: "write", Net: c.LocalAddr().Network(), Addr: c.RemoteAddr(), Err: errno}
	}
	return done, err
}
