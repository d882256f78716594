package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"procgdb/procdir"
	"procgdb/target"
)

// link is a client's connection as its session reads and writes it:
// raw system calls on non-blocking descriptors, which never wait. Where
// one would, the session waits through its tracer's loop once the tracer
// has started (target.Ctl.WaitInput, which goes on following the tracees
// and running work from other goroutines meanwhile), and before that
// through Go's poller, which holds no thread for a connection that sits
// idle. Either way a request and its reply usually cost one read and one
// write: no goroutine hand-off, no scheduler, no thread switch
// (BENCHMARKS.md).
//
// Deadlines apply to the waits. Close may be called from any goroutine:
// it makes the session's reads and writes fail, also in the middle of a
// wait. The descriptors themselves are closed by release, on the
// session's goroutine once it is done with them: closed elsewhere, their
// numbers could be given to another file while the loop still uses them.
type link struct {
	rfd, wfd int
	// rraw and wraw are the poller's handles of the descriptors, for
	// the waits before the tracer starts.
	rraw, wwraw syscall.RawConn
	closer      io.Closer
	// owner, when set, holds the connection and more (a daemon's client,
	// with the pidfds that its checks need while it is served): release
	// closes it, after the link's descriptors; own does not.
	owner io.Closer
	// tr is the tracer of the session, whose loop serves the waits once
	// it has started; nil for a session without one.
	tr *target.Tracer
	// socket says rfd is a socket, which shutdown wakes up.
	socket bool
	// owned says the socket has left Go's poller for the loop (own).
	owned bool
	// replied says the last call was a write: the client has had no time
	// to answer it, so the next read waits first rather than try a read
	// that would find nothing (one system call less per packet).
	replied bool

	mu       sync.Mutex
	rdl, wdl time.Time
	closed   atomic.Bool
}

// newSocketLink makes a link of a connected socket.
func newSocketLink(c net.Conn) (*link, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T is not a socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	l := &link{rraw: raw, wwraw: raw, closer: c, socket: true}
	raw.Control(func(fd uintptr) { l.rfd, l.wfd = int(fd), int(fd) })
	return l, nil
}

// newPeerLink makes a link of a daemon's client: of its socket, while
// the rest of c stays open until release.
func newPeerLink(c *procdir.Conn) (*link, error) {
	l, err := newSocketLink(c.UnixConn)
	if err != nil {
		return nil, err
	}
	l.owner = c
	return l, nil
}

// newStdioLink makes a link of procgdb's standard input and output. Both
// become non-blocking, so that Go's poller serves their waits too.
func newStdioLink() (*link, error) {
	l := &link{}
	var files [2]*os.File
	for i, fd := range []int{0, 1} {
		if err := unix.SetNonblock(fd, true); err != nil {
			return nil, fmt.Errorf("stdio: %w", err)
		}
		// A file made of a non-blocking descriptor is in the poller.
		files[i] = os.NewFile(uintptr(fd), []string{"stdin", "stdout"}[i])
	}
	var err error
	if l.rraw, err = files[0].SyscallConn(); err != nil {
		return nil, err
	}
	if l.wwraw, err = files[1].SyscallConn(); err != nil {
		return nil, err
	}
	l.rfd, l.wfd, l.closer = 0, 1, files[0]
	return l, nil
}

// use makes the link wait through tr's loop once tr has started.
func (l *link) use(tr *target.Tracer) { l.tr = tr }

// input is the descriptor the client's bytes arrive on. Must be called
// on the session's goroutine.
func (l *link) input() int {
	l.own()
	return l.rfd
}

// own takes a socket out of Go's poller once the tracer's loop serves
// the link's waits. Left there, every packet that arrives and every
// write the client acknowledges would wake an idle thread of the
// runtime in epoll_wait to find nothing to do: two thread switches per
// packet, more than the loop's own work for a g (BENCHMARKS.md). A
// duplicate of the descriptor is kept and the connection closed, which
// removes it from the poller's epoll set. Must be called on the
// session's goroutine.
func (l *link) own() {
	if l.owned || !l.socket || l.tr == nil || !l.tr.Started() {
		return
	}
	l.owned = true
	fd, err := unix.FcntlInt(uintptr(l.rfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return // the poller's wake-ups cost time, nothing else
	}
	l.mu.Lock()
	defer l.mu.Unlock() // Close must not shut down a number reused meanwhile
	l.closer.Close()
	l.rfd, l.wfd, l.rraw, l.wwraw, l.closer = fd, fd, nil, nil, fdCloser(fd)
}

// fdCloser closes a descriptor of the link's own.
type fdCloser int

func (fd fdCloser) Close() error { return unix.Close(int(fd)) }

func (l *link) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if l.replied {
		l.replied = false
		if err := l.wait(false); err != nil {
			return 0, err
		}
	}
	for {
		if l.closed.Load() {
			return 0, net.ErrClosed
		}
		n, errno := rawIO(unix.SYS_READ, l.rfd, p)
		switch errno {
		case 0:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := l.wait(false); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("read: %w", errno)
		}
	}
}

func (l *link) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.replied = true
	done := 0
	for done < len(p) {
		if l.closed.Load() {
			return done, net.ErrClosed
		}
		n, errno := rawIO(unix.SYS_WRITE, l.wfd, p[done:])
		switch errno {
		case 0:
			done += n
		case unix.EINTR:
		case unix.EAGAIN:
			if err := l.wait(true); err != nil {
				return done, err
			}
		default:
			return done, fmt.Errorf("write: %w", errno)
		}
	}
	return done, nil
}

// wait waits until the descriptor of the direction asked for is ready,
// its deadline passes, or the link is closed.
func (l *link) wait(write bool) error {
	l.own()
	fd, raw, events := l.rfd, l.rraw, int16(unix.POLLIN)
	l.mu.Lock()
	deadline := l.rdl
	if write {
		fd, raw, events, deadline = l.wfd, l.wwraw, unix.POLLOUT, l.wdl
	}
	l.mu.Unlock()
	if l.tr != nil && l.tr.Started() {
		// On the tracer's loop, which is this goroutine.
		err := l.tr.Ctl().WaitInput(fd, write, deadline)
		if l.closed.Load() {
			return net.ErrClosed
		}
		return err
	}
	// Go's poller waits for the next edge after its callback says the
	// descriptor is not ready, so nothing that comes meanwhile is missed.
	wait := raw.Read
	if write {
		wait = raw.Write
	}
	err := wait(func(uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, _ := unix.Poll(fds, 0)
		return n > 0 || l.closed.Load()
	})
	if l.closed.Load() {
		return net.ErrClosed
	}
	return err
}

// SetReadDeadline and SetWriteDeadline bound the waits of reads and
// writes (rsp's deadlines; every write sets one).
func (l *link) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	l.rdl = t
	l.mu.Unlock()
	return l.setPollerDeadline(t, true)
}

func (l *link) SetWriteDeadline(t time.Time) error {
	l.mu.Lock()
	l.wdl = t
	l.mu.Unlock()
	return l.setPollerDeadline(t, false)
}

// setPollerDeadline gives the poller's waits the same deadline, while
// they are the poller's: the tracer's loop takes the deadline from the
// link, and a poller deadline costs a runtime timer for each packet.
func (l *link) setPollerDeadline(t time.Time, read bool) error {
	type deadliner interface {
		SetReadDeadline(time.Time) error
		SetWriteDeadline(time.Time) error
	}
	d, ok := l.closer.(deadliner)
	switch {
	case !ok || l.tr != nil && l.tr.Started():
		return nil
	case read:
		return d.SetReadDeadline(t)
	}
	return d.SetWriteDeadline(t)
}

// Close makes reads and writes fail, those waiting included. It may be
// called more than once, from any goroutine.
func (l *link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	l.mu.Lock()
	closer := l.closer
	if l.socket {
		unix.Shutdown(l.rfd, unix.SHUT_RDWR)
	}
	l.mu.Unlock()
	// Wakes the waits of Go's poller, and of the tracer's loop.
	if d, ok := closer.(interface{ SetDeadline(time.Time) error }); ok {
		d.SetDeadline(time.Unix(1, 0))
	}
	if l.tr != nil {
		l.tr.Wake()
	}
	return nil
}

// release closes the connection. Must be called by the goroutine that
// ran the link's session, once it is over.
func (l *link) release() error {
	l.Close()
	err := l.closer.Close()
	if l.owner != nil {
		// Its connection is closed already, by now.
		l.owner.Close()
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// rawIO makes a read or write system call that never waits (the
// descriptor is non-blocking).
func rawIO(nr uintptr, fd int, p []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), errno
}
