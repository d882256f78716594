//go:build linux

package procdir

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Default intervals (see Options.Interval).
const (
	defaultSettle = 100 * time.Millisecond
	defaultPoll   = 500 * time.Millisecond
)

// Options tune Watch. The zero value suits a daemon.
type Options struct {
	// Poll scans /proc even where the kernel's process events are to be
	// had.
	Poll bool
	// Interval is, with process events, how long a new process waits for
	// its socket, so that the many processes that live only a moment
	// (a shell script's) cost no socket; and, when polling, the time
	// between scans of /proc. Zero means 100 ms with process events and
	// 500 ms when polling.
	Interval time.Duration
	// Log receives what goes wrong with one process's socket (Warn) and
	// each socket made and removed (Debug). Nil discards.
	Log *slog.Logger
}

// Dir is a directory kept in step with the machine's processes: DIR/PID
// is a unix socket for each process that procgdb serves, from a moment
// after the process starts until it ends, owned as the package
// documentation says.
//
// procgdb serves every process but kernel threads and itself when it may
// trace them all (CAP_SYS_PTRACE and CAP_CHOWN, as root has); otherwise
// those whose owner is procgdb's own effective uid.
type Dir struct {
	conns  chan *Conn
	done   chan struct{}
	err    error // why the watcher stopped, once done is closed
	cancel context.CancelFunc
	events bool
	once   sync.Once
}

// Watch starts keeping directory dir in step with the machine's
// processes. Every process running when it returns has its socket. It
// stops when ctx ends or Close is called, and then removes the sockets.
//
// dir must exist, belong to procgdb's effective uid and be writable by
// nobody else, nor may a directory above it be unless sticky; another
// procgdb must not be serving it. Sockets left in it by a procgdb that
// did not stop cleanly are removed.
//
// Watch listens to the kernel's process events where it may (the proc
// connector, which needs CAP_NET_ADMIN and the first PID and user
// namespaces), and scans /proc otherwise or with opts.Poll.
func Watch(ctx context.Context, dir string, opts Options) (*Dir, error) {
	w, err := newWatcher(dir, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &Dir{conns: make(chan *Conn, backlog), done: make(chan struct{}), cancel: cancel, events: w.nl >= 0}
	go func() {
		d.err = w.run(ctx, d.conns)
		w.close()
		close(d.done)
	}()
	return d, nil
}

// Events tells whether d learns of processes from the kernel's process
// events rather than by scanning /proc.
func (d *Dir) Events() bool { return d.events }

// Accept waits for the next connection to one of the directory's
// sockets. The peer has not been checked: call Conn.Check before serving
// it anything. Accept must be called for connections to be taken: the
// directory waits (and stops following processes) while backlog
// connections wait for Accept.
func (d *Dir) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-d.conns:
		return c, nil
	case <-d.done:
		if d.err != nil {
			return nil, d.err
		}
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops following processes and removes the sockets. Connections
// already accepted stay open.
func (d *Dir) Close() error {
	d.cancel()
	<-d.done
	d.once.Do(func() {
		for {
			select {
			case c := <-d.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return d.err
}

// Epoll keys: a process's key (a multiple of four) plus what the
// descriptor is.
const (
	keyEvents = iota // the process events socket
	keyListen        // a process's socket
	keyExit          // a process's pidfd, readable once it has exited
)

// proc is a process the watcher knows of.
type proc struct {
	pid    int
	key    uint64
	pidfd  int
	lfd    int // DIR/PID, or -1 when not served
	owner  uint32
	kernel bool
}

// watcher is the state of a Dir, owned by its one goroutine.
type watcher struct {
	socks    *sockets
	ep       *os.File // epoll descriptor, in Go's poller
	rc       syscall.RawConn
	nl       int // process events, or -1 when polling
	procfs   int // /proc
	interval time.Duration
	log      *slog.Logger
	self     int
	uid      uint32
	all      bool // may serve every user's processes

	procs   map[int]*proc
	byKey   map[uint64]*proc
	nextKey uint64
	// waiting is set when process events wait to be read at the next
	// tick; pending are the PIDs they name, and rescan asks for a scan
	// of /proc instead (events were lost).
	waiting bool
	pending map[int]struct{}
	rescan  bool
	evs     []procEvent
	pids    []int
	buf     []byte
}

func newWatcher(dir string, opts Options) (*watcher, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	self, err := readStatus(os.Getpid())
	if err != nil {
		return nil, err
	}
	w := &watcher{
		nl: -1, procfs: -1, log: log, self: os.Getpid(), uid: uint32(os.Geteuid()),
		all:   self.capEff.has(unix.CAP_SYS_PTRACE) && self.capEff.has(unix.CAP_CHOWN),
		procs: map[int]*proc{}, byKey: map[uint64]*proc{}, pending: map[int]struct{}{},
		buf: make([]byte, 64<<10),
	}
	if w.socks, err = openSockets(dir); err != nil {
		return nil, err
	}
	if err := w.setUp(opts); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *watcher) setUp(opts Options) error {
	var err error
	if w.procfs, err = unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return fmt.Errorf("open /proc: %w", err)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	// Non-blocking, so that os.NewFile puts it in Go's poller: the
	// watcher waits on it without holding a thread.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return fmt.Errorf("epoll: %w", err)
	}
	w.ep = os.NewFile(uintptr(epfd), "epoll")
	if w.rc, err = w.ep.SyscallConn(); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	w.interval = opts.Interval
	if !opts.Poll {
		if w.nl, err = openEvents(); err != nil {
			w.log.Info("scanning /proc for processes", "reason", err)
		} else if err := w.add(w.nl, keyEvents); err != nil {
			return err
		}
	}
	if w.interval <= 0 {
		w.interval = defaultPoll
		if w.nl >= 0 {
			w.interval = defaultSettle
		}
	}
	// After subscribing: a process that starts during the scan is in
	// the scan or in the events.
	return w.scan()
}

// add registers fd with epoll under key.
func (w *watcher) add(fd int, key uint64) error { return w.ctl(unix.EPOLL_CTL_ADD, fd, key) }

// ctl adds or modifies fd in epoll, under key. The process events socket
// is one-shot: once it reports events, they wait in its buffer until the
// next tick reads them all and arms it again, so that a burst of events
// costs one wake-up, not one each.
func (w *watcher) ctl(op, fd int, key uint64) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(uint32(key)), Pad: int32(uint32(key >> 32))}
	if key == keyEvents {
		ev.Events |= unix.EPOLLONESHOT
	}
	if err := unix.EpollCtl(int(w.ep.Fd()), op, fd, &ev); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	return nil
}

// drop unregisters fd from epoll and closes it. Closing alone would
// leave it registered while a child forked by this process (between
// fork and exec) still holds a copy.
func (w *watcher) drop(fd int) {
	unix.EpollCtl(int(w.ep.Fd()), unix.EPOLL_CTL_DEL, fd, nil)
	unix.Close(fd)
}

// run follows processes and takes connections until ctx ends.
func (w *watcher) run(ctx context.Context, out chan<- *Conn) error {
	stop := context.AfterFunc(ctx, func() { w.ep.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	events := make([]unix.EpollEvent, 64)
	var due time.Time
	if w.nl < 0 {
		due = time.Now().Add(w.interval)
	}
	for {
		if due.IsZero() && w.waiting {
			due = time.Now().Add(w.interval)
		}
		// Set the deadline before looking at ctx: a cancellation after
		// the look moves the deadline to the past.
		if err := w.ep.SetReadDeadline(due); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		n := 0
		var werr error
		err := w.rc.Read(func(fd uintptr) bool {
			n, werr = unix.EpollWait(int(fd), events, 0)
			if werr != nil {
				n = 0
			}
			return n > 0 || werr != nil
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("epoll: %w", err)
		}
		if werr != nil && werr != unix.EINTR {
			return fmt.Errorf("epoll_wait: %w", werr)
		}
		for _, ev := range events[:n] {
			if err := w.handle(ctx, ev, out); err != nil {
				return err
			}
		}
		if !due.IsZero() && !time.Now().Before(due) {
			due = time.Time{}
			if w.nl < 0 {
				due = time.Now().Add(w.interval)
			}
			if err := w.tick(); err != nil {
				return err
			}
		}
	}
}

func (w *watcher) handle(ctx context.Context, ev unix.EpollEvent, out chan<- *Conn) error {
	key := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
	if key == keyEvents {
		w.waiting = true
		return nil
	}
	p := w.byKey[key&^3]
	if p == nil {
		return nil // a process removed earlier in this batch
	}
	if key&3 == keyExit {
		w.remove(p)
		return nil
	}
	w.accept(ctx, p, out)
	return nil
}

// readEvents takes every process event waiting: a new process, or one
// that ran another program or changed its uids, is to be settled.
func (w *watcher) readEvents() error {
	for {
		n, _, err := unix.Recvfrom(w.nl, w.buf, 0)
		switch {
		case err == unix.EAGAIN:
			return nil
		case err == unix.ENOBUFS:
			w.log.Debug("process events lost; scanning /proc")
			w.rescan = true
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("process events: %w", err)
		}
		if w.evs, err = parseProcEvents(w.buf[:n], w.evs[:0]); err != nil {
			w.log.Warn("process events", "err", err)
			w.rescan = true
		}
		for _, e := range w.evs {
			if e.what != procEventNone && e.process() {
				w.pending[e.tgid] = struct{}{}
			}
		}
	}
}

// tick settles what process events named, or scans /proc.
func (w *watcher) tick() error {
	if w.nl < 0 {
		return w.scan()
	}
	if err := w.readEvents(); err != nil {
		return err
	}
	if w.rescan {
		w.rescan = false
		clear(w.pending)
		if err := w.scan(); err != nil {
			return err
		}
	}
	for pid := range w.pending {
		w.settle(pid)
	}
	clear(w.pending)
	w.waiting = false
	return w.ctl(unix.EPOLL_CTL_MOD, w.nl, keyEvents)
}

// scan settles every process in /proc. /proc lists processes, not their
// other threads.
func (w *watcher) scan() error {
	if _, err := unix.Seek(w.procfs, 0, 0); err != nil {
		return fmt.Errorf("scan /proc: %w", err)
	}
	for {
		n, err := unix.Getdents(w.procfs, w.buf)
		if err != nil {
			return fmt.Errorf("scan /proc: %w", err)
		}
		if n == 0 {
			return nil
		}
		for _, pid := range direntPIDs(w.buf[:n], w.pids[:0]) {
			// A process known is not asked whether it ended: if it did
			// and its PID went to another, its pidfd's end, waiting in
			// epoll, removes it before the next scan, and Check refuses
			// connections to its socket meanwhile.
			if p := w.procs[pid]; p != nil {
				w.refresh(p)
			} else {
				w.settle(pid)
			}
		}
	}
}

// direntPIDs appends the names in b (struct linux_dirent64 records, as
// getdents64 returns them) that are PIDs to dst, without a string each.
func direntPIDs(b []byte, dst []int) []int {
	const nameAt = 19 // after d_ino, d_off, d_reclen and d_type
	for len(b) >= nameAt {
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < nameAt || reclen > len(b) {
			break
		}
		name := b[nameAt:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if pid, ok := parsePID(name); ok {
			dst = append(dst, pid)
		}
		b = b[reclen:]
	}
	return dst
}

// settle brings process pid's socket in step: made for a process new to
// the watcher, given to a new owner, or removed when the process is no
// longer served.
func (w *watcher) settle(pid int) {
	if p := w.procs[pid]; p != nil {
		if !exited(p.pidfd) {
			w.refresh(p)
			return
		}
		w.remove(p) // its exit is still in epoll's queue; pid is reused
	}
	if pid == w.self {
		return
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err != unix.ESRCH && err != unix.EINVAL { // not gone, nor a thread
			w.log.Warn("process not followed", "pid", pid, "err", err)
		}
		return
	}
	if exited(pidfd) {
		unix.Close(pidfd)
		return
	}
	s, owner, err := readStat(pid)
	if err != nil {
		unix.Close(pidfd)
		return
	}
	w.nextKey += 4
	p := &proc{pid: pid, key: w.nextKey, pidfd: pidfd, lfd: -1, owner: owner.Uid, kernel: s.flags&pfKthread != 0}
	if err := w.add(pidfd, p.key|keyExit); err != nil {
		w.log.Warn("process not followed", "pid", pid, "err", err)
		unix.Close(pidfd)
		return
	}
	w.procs[pid], w.byKey[p.key] = p, p
	w.serve(p)
}

// refresh reads the owner of a process already known and brings its
// socket in step.
func (w *watcher) refresh(p *proc) {
	if p.kernel {
		return
	}
	var st unix.Stat_t
	if err := unix.Fstatat(w.procfs, strconv.Itoa(p.pid)+"/stat", &st, 0); err != nil || st.Uid == p.owner {
		return // exiting (its pidfd will tell), or unchanged
	}
	p.owner = st.Uid
	if p.lfd < 0 || !w.serves(p) {
		w.serve(p)
		return
	}
	if err := w.socks.chown(p.pid, p.owner); err != nil {
		w.log.Warn("socket keeps its owner", "pid", p.pid, "err", err)
		return
	}
	w.log.Debug("socket owner", "pid", p.pid, "uid", p.owner)
}

func (w *watcher) serves(p *proc) bool { return !p.kernel && (w.all || p.owner == w.uid) }

// serve makes or removes p's socket as w.serves says.
func (w *watcher) serve(p *proc) {
	switch on := w.serves(p); {
	case on && p.lfd < 0:
		lfd, err := w.socks.listen(p.pid, p.owner)
		if err == nil {
			if err = w.add(lfd, p.key|keyListen); err != nil {
				unix.Close(lfd)
				w.socks.remove(p.pid)
			}
		}
		if err != nil {
			w.log.Warn("no socket", "pid", p.pid, "err", err)
			return
		}
		p.lfd = lfd
		w.log.Debug("socket", "pid", p.pid, "uid", p.owner)
	case !on && p.lfd >= 0:
		w.unlisten(p)
	}
}

func (w *watcher) unlisten(p *proc) {
	if err := w.socks.remove(p.pid); err != nil {
		w.log.Warn("socket not removed", "pid", p.pid, "err", err)
	}
	w.drop(p.lfd)
	p.lfd = -1
	w.log.Debug("socket removed", "pid", p.pid)
}

// remove forgets a process that has exited.
func (w *watcher) remove(p *proc) {
	if p.lfd >= 0 {
		w.unlisten(p)
	}
	w.drop(p.pidfd)
	delete(w.procs, p.pid)
	delete(w.byKey, p.key)
}

// accept takes every connection waiting on p's socket and hands each
// out, waiting for Accept.
func (w *watcher) accept(ctx context.Context, p *proc, out chan<- *Conn) {
	for {
		c, err := newConn(p.lfd, p.pid, p.pidfd)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) {
				w.log.Warn("accept", "pid", p.pid, "err", err)
			}
			return
		}
		select {
		case out <- c:
		case <-ctx.Done():
			c.Close()
			return
		}
	}
}

// close removes the sockets and releases every descriptor.
func (w *watcher) close() {
	for _, p := range w.procs {
		w.remove(p)
	}
	if w.nl >= 0 {
		unix.Close(w.nl)
	}
	if w.procfs >= 0 {
		unix.Close(w.procfs)
	}
	if w.ep != nil {
		w.ep.Close()
	}
	w.socks.close()
}

// exited tells whether the process of pidfd has ended (a pidfd polls
// readable once its process has exited, zombie or reaped).
func exited(pidfd int) bool {
	if pidfd < 0 {
		return true // a closed pidfd (-1) tells nothing: the safe answer
	}
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
}
