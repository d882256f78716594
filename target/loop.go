package target

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The one-thread rule. Linux accepts ptrace requests for a tracee only
// from the thread that attached to it, and a tracee whose tracer thread
// exits is detached (or, with PTRACE_O_EXITKILL, killed). So a Tracer has
// one goroutine, locked to its OS thread for the rest of its life: the
// loop. NewTracer makes its caller the loop and hands it the Tracer's
// *Ctl, the only way to make a ptrace request; other goroutines reach the
// Tracer through Tracer.Do, which runs their function on the loop the next
// time it waits.
//
// The client's session runs on the loop too (the session calls the Ctl,
// and waits for its client's bytes through Ctl.WaitInput): a packet that
// resumes a thread and the stop that ends the run cross no goroutine and
// no Go scheduler, which is most of what a stop cost a stub that handed
// them between threads (BENCHMARKS.md).
//
// The loop blocks in one place at a time, with the system call the state
// of the tracees calls for (Tracer.block):
//
//   - while some thread runs (or while no client is connected and
//     processes are held, which can be killed from outside), in wait4 for
//     any of its own tracees (__WNOTHREAD: never another Tracer's, never a
//     child someone else waits for), so that a stop wakes this thread
//     directly. What else can need the loop meanwhile gets it out of wait4
//     with a signal aimed at this thread (wakeSignal): bytes from the
//     client (its socket's O_ASYNC, sent to this thread with F_SETOWN_EX
//     and F_SETSIG) and work from other goroutines. The kernel has no
//     wait4 that atomically unblocks a signal, so a wake-up can land
//     between the loop's last look and wait4 itself; a timer aimed at this
//     thread catches that case, first after firstWake, then at growing
//     intervals up to lastWake while nothing happens. Senders of work also
//     signal again every resendWork until the loop takes their work.
//   - otherwise, in ppoll on the client's descriptor and an eventfd that
//     counts queued work.
//
// Both are raw system calls, which the Go scheduler does not see: to the
// runtime the loop is a goroutine that never stops running, so each loop
// adds a processor to GOMAXPROCS for its life (addProc) and the rest of
// procgdb keeps those it had. A garbage collection, or the runtime's
// preemption signal every 10 ms, ends the wait with EINTR, and the loop
// yields at its next function call. Made the way the runtime knows
// (syscall.Syscall6), a wait let the runtime's monitor take the loop's
// processor away and then watch it every 20 µs: a single step cost
// about twice the CPU (BENCHMARKS.md).

// ErrClosed is returned for work sent to a Tracer after Close.
var ErrClosed = errors.New("tracer closed")

// wNoThread is __WNOTHREAD: wait only for the calling thread's own
// children and tracees.
const wNoThread = 0x20000000

// wakeSignal is the real-time signal aimed at a loop's thread to get it
// out of wait4. The Go runtime installs its handler for every real-time
// signal and ignores those nobody asked for with os/signal; procgdb asks
// for none of them.
const wakeSignal = unix.Signal(60)

// Wake-up timing (see the rule above).
const (
	resendWork = time.Millisecond
	firstWake  = 2 * time.Millisecond
	lastWake   = 100 * time.Millisecond
	// clientGrace is how long a wait for the client while threads run
	// watches only the client first (Tracer.block).
	clientGrace = 200 * time.Microsecond
)

// setUpWakeSignal makes wakeSignal interrupt system calls, once per
// process (signal dispositions are the process's, not a loop's): it
// keeps the handler the Go runtime installed and drops SA_RESTART, which
// the runtime sets for every signal and which would restart wait4 after
// the handler instead of returning EINTR.
var setUpWakeSignal = sync.OnceValue(func() error {
	const saRestart = 0x10000000
	var act sigaction
	if err := rtSigaction(wakeSignal, nil, &act); err != nil {
		return err
	}
	if act.handler == 0 || act.handler == 1 { // SIG_DFL, SIG_IGN
		return fmt.Errorf("signal %d has no Go handler", wakeSignal)
	}
	act.flags &^= saRestart
	return rtSigaction(wakeSignal, &act, nil)
})

// quietChildStops asks the kernel, once per process, not to send SIGCHLD
// when a child stops (SA_NOCLDSTOP on the handler the Go runtime
// installed): every ptrace stop of every tracee would otherwise raise a
// signal in procgdb, which nobody waits for (the loop's wait4 is woken
// without it) and which the runtime handles on whichever thread the
// kernel picks, waking it. A child's exit still sends SIGCHLD.
var quietChildStops = sync.OnceValue(func() error {
	const saNoCldStop = 1
	var act sigaction
	if err := rtSigaction(unix.SIGCHLD, nil, &act); err != nil {
		return err
	}
	if act.handler == 0 || act.handler == 1 { // SIG_DFL, SIG_IGN: nothing is delivered
		return nil
	}
	act.flags |= saNoCldStop
	return rtSigaction(unix.SIGCHLD, &act, nil)
})

// request is work sent to the loop.
type request struct {
	fn   func() error
	err  error
	done chan struct{}
}

// loop is a Tracer's thread: its work queue and its blocking system
// calls. Its methods other than do and notify must run on the loop.
type loop struct {
	log *slog.Logger
	tid int
	efd int // eventfd, readable while work is queued

	mu     sync.Mutex
	queue  []*request
	closed bool

	// inWait4 is set while the loop is in wait4 (or about to enter it),
	// when only a signal reaches it. A sender queues its work and then
	// reads inWait4; the loop sets inWait4 and then looks at the queue:
	// at least one of them sees the other.
	inWait4 atomic.Bool

	timer     int32         // POSIX timer that sends wakeSignal to tid
	timerNext time.Duration // its next interval, growing while nothing happens

	// watched is the descriptor whose bytes send wakeSignal (watchInput),
	// or -1.
	watched int
}

// newLoop makes the calling goroutine a loop: it locks it to its OS
// thread for good (the thread ends with the goroutine, and with it the
// tracees' attachment, which is what we want once they are all gone).
func newLoop(log *slog.Logger) (*loop, error) {
	if err := setUpWakeSignal(); err != nil {
		return nil, err
	}
	if err := quietChildStops(); err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	runtime.LockOSThread()
	l := &loop{log: log, efd: efd, tid: unix.Gettid(), watched: -1}
	if l.timer, err = timerCreate(l.tid, wakeSignal); err != nil {
		unix.Close(efd)
		return nil, fmt.Errorf("timer_create: %w", err)
	}
	addProc(1)
	return l, nil
}

// procsMu orders the loops' changes of GOMAXPROCS, each a read and a
// write.
var procsMu sync.Mutex

// addProc changes GOMAXPROCS by n: a loop holds a processor of its own
// for its life, since it blocks in raw system calls.
func addProc(n int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0)+n, 1))
}

// do runs fn on the loop and returns its error. It must not be called
// from the loop itself, where it would wait for ever.
func (l *loop) do(fn func() error) error {
	r := &request{fn: fn, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.queue = append(l.queue, r)
	l.notifyLocked()
	l.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	default:
	}
	t := time.NewTicker(resendWork)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return r.err
		case <-t.C:
			// The signal may have come just before the loop entered
			// wait4, where it interrupted nothing.
			l.wakeIfWaiting()
		}
	}
}

// notify gets the loop out of its wait, wherever it waits, to look at
// what changed. It may be called from any goroutine.
func (l *loop) notify() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.notifyLocked()
	}
}

// notifyLocked is notify with l.mu held, on an open loop (whose eventfd
// is still its own).
func (l *loop) notifyLocked() {
	one := [8]byte{1}
	unix.Write(l.efd, one[:])
	l.wakeIfWaiting()
}

func (l *loop) wakeIfWaiting() {
	if l.inWait4.Load() {
		unix.Tgkill(unix.Getpid(), l.tid, wakeSignal)
	}
}

// hasWork reports whether work is queued.
func (l *loop) hasWork() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) > 0
}

// runQueued runs the work queued so far.
func (l *loop) runQueued() {
	if l.efd >= 0 {
		var n [8]byte
		unix.Read(l.efd, n[:]) // reset the count; the queue is the truth
	}
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.mu.Unlock()
			return
		}
		r := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		r.err = l.recovered("work", r.fn)
		close(r.done)
	}
}

// recovered runs fn and returns its error, or an error for its panic. A
// panic is a bug, but it must not end procgdb: a dead tracer leaves the
// int3 bytes of every breakpoint in its tracees, which the kernel detaches
// and lets run. Recovered, the Tracer can still be closed, which removes
// them.
func (l *loop) recovered(what string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			l.log.Error("tracer panicked", "in", what, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("tracer: internal error: %v", v)
		}
	}()
	return fn()
}

// release ends the loop: work queued until now runs, later work fails
// with ErrClosed, and the loop's descriptors and timer go. The goroutine
// stays locked to its thread; the thread ends when the goroutine does.
func (l *loop) release() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.runQueued()
	l.unwatchInput()
	l.mu.Lock()
	defer l.mu.Unlock()
	timerDelete(l.timer)
	unix.Close(l.efd)
	l.efd = -1
	addProc(-1)
}

// poll waits in ppoll until one of fds is ready, work is queued (which
// it runs), a signal comes, or timeout passes (a negative timeout waits
// for ever). It returns how many of fds are ready.
func (l *loop) poll(fds []unix.PollFd, timeout time.Duration) (int, error) {
	all := append(fds, unix.PollFd{Fd: int32(l.efd), Events: unix.POLLIN})
	n, err := ppoll(all, timeout)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if all[len(all)-1].Revents != 0 {
		l.runQueued()
		n--
	}
	copy(fds, all)
	return n, nil
}

// wait4 blocks until one of the loop's tracees changes state and returns
// its status, or returns tid 0 when the wait was interrupted: work was
// queued (and has run), a client's descriptor became ready, or the safety
// timer fired; the caller then looks again.
func (l *loop) wait4() (int, unix.WaitStatus, error) {
	l.inWait4.Store(true)
	defer l.inWait4.Store(false)
	if l.hasWork() {
		l.runQueued()
		return 0, 0, nil
	}
	tid, ws, err := wait4Blocking()
	if errors.Is(err, unix.EINTR) {
		if l.hasWork() {
			l.runQueued()
		}
		return 0, ws, nil
	}
	return tid, ws, err
}

// armTimer starts the safety timer of a wait4: the first of a wait soon,
// later ones at growing intervals, none later than within. The timer
// repeats until it is armed again or disarmed: its own signal can land
// before wait4 as well (the thread preempted in between, on a busy
// machine), and a one-shot timer would then leave wait4 blocked for good.
func (l *loop) armTimer(first bool, within time.Duration) {
	if first || l.timerNext == 0 {
		l.timerNext = firstWake
	}
	d := l.timerNext
	if within > 0 && within < d {
		d = within
	}
	timerSet(l.timer, d)
	l.timerNext = min(2*l.timerNext, lastWake)
}

// disarmTimer stops the safety timer.
func (l *loop) disarmTimer() { timerSet(l.timer, 0) }

// watchInput makes bytes arriving on fd send wakeSignal to the loop's
// thread (O_ASYNC), so that they get it out of wait4. It stays so until
// unwatchInput, which the loop calls once it waits in ppoll instead: a
// client that talks while threads run (non-stop mode) then costs no
// fcntl calls per packet, and a signal that comes meanwhile only ends a
// system call that is retried.
func (l *loop) watchInput(fd int) error {
	if fd == l.watched {
		return nil
	}
	l.unwatchInput()
	if err := fcntlSetOwnThread(fd, l.tid); err != nil {
		return fmt.Errorf("F_SETOWN_EX: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETSIG, int(wakeSignal)); err != nil {
		return fmt.Errorf("F_SETSIG: %w", err)
	}
	if err := setAsync(fd, true); err != nil {
		return err
	}
	l.watched = fd
	return nil
}

// unwatchInput undoes watchInput. The descriptor may be closed by now,
// and its number even reused: turning O_ASYNC off is harmless either way.
func (l *loop) unwatchInput() {
	if l.watched >= 0 {
		setAsync(l.watched, false)
		l.watched = -1
	}
}

// setAsync turns fd's O_ASYNC on or off.
func setAsync(fd int, on bool) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("F_GETFL: %w", err)
	}
	if on {
		fl |= unix.O_ASYNC
	} else {
		fl &^= unix.O_ASYNC
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl); err != nil {
		return fmt.Errorf("F_SETFL: %w", err)
	}
	return nil
}
