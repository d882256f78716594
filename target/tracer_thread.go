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
	"unsafe"

	"golang.org/x/sys/unix"
)

// The one-thread rule. Linux accepts ptrace requests for a tracee only
// from the thread that attached to it, and a tracee whose tracer thread
// exits is detached (or, with PTRACE_O_EXITKILL, killed). So each Tracer
// owns one goroutine locked to its OS thread for the Tracer's whole life:
// every ptrace request and every wait4 for its tracees runs there, sent
// through do. Functions documented "Must run on the tracer thread" are
// only called from inside do or from the loop below. The thread starts
// with the first work sent through do (a launch or an attach, in
// practice), so a Tracer that never gets a process costs no thread: an
// idle client costs a goroutine, not an OS thread.
//
// Handing work to a locked OS thread costs two thread wake-ups each way
// (tens of microseconds of CPU on a small VM), so work that needs no
// ptrace runs on the caller instead, under mu: queries that only read the
// Tracer's state (the process and thread lists, cached registers, memory
// through process_vm_readv) hold it shared, through read; changes made
// while the processes are stopped (breakpoints, memory writes, registers
// kept for the next resume) hold it exclusively, through write. The loop
// holds mu while it runs anything, so the state is never written by two
// goroutines at once.
//
// While the processes run, and while no client drives them (Park), the
// loop blocks in wait4 for any of its own tracees (__WNOTHREAD: never
// another Tracer's, never a child some other part of the program waits
// for), so a tracee's stop wakes this thread
// directly: no SIGCHLD, no os/signal goroutine, no hand-off. Work sent
// meanwhile (an interrupt, Close) gets the loop out of wait4 with a signal
// sent to this thread alone (wakeSignal), whose handler runs without
// SA_RESTART so that wait4 returns EINTR.

// ErrClosed is returned for work sent to a Tracer after Close.
var ErrClosed = errors.New("tracer closed")

// wNoThread is __WNOTHREAD: wait only for the calling thread's own
// children and tracees.
const wNoThread = 0x20000000

// wakeSignal is the real-time signal that gets the tracer thread out of
// wait4. The Go runtime installs its handler for every real-time signal
// and ignores those nobody asked for with os/signal; procgdb asks for
// none of them.
const wakeSignal = unix.Signal(60)

// wakeRetry is how long a sender of work waits for the loop to take it
// before it signals again: the signal can arrive just before the loop
// enters wait4, where it interrupts nothing.
const wakeRetry = time.Millisecond

// setUpWakeSignal makes wakeSignal interrupt system calls, once per
// process (signal dispositions are the process's, not a Tracer's): it
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

// sigaction is the kernel's struct sigaction on x86-64.
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

func rtSigaction(sig unix.Signal, act, old *sigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if errno != 0 {
		return fmt.Errorf("rt_sigaction %d: %w", sig, errno)
	}
	return nil
}

type request struct {
	fn   func() error
	done chan error
}

// tracerThread is the tracer goroutine's end of a Tracer.
type tracerThread struct {
	// mu is held by the loop while it runs work, by write, and shared
	// by read.
	mu   sync.RWMutex
	reqs chan request
	quit chan struct{}
	done chan struct{}
	log  *slog.Logger
	// once starts the loop (start), or marks a loop that never started
	// done (close); started is set once the loop runs.
	once    sync.Once
	started atomic.Bool

	tid     int  // the locked OS thread, for wakeSignal
	canWake bool // wakeSignal is set up; without it the loop polls
	// sending counts work on its way that the loop has not taken yet
	// (the loop counts it off as it takes it); blocked is set while the
	// loop is in (or about to enter) wait4.
	// Each side sets its own flag and then reads the other's, so at
	// least one of them sees the other.
	sending atomic.Int32
	blocked atomic.Bool

	// waiting reports whether there are tracees to wait for; onStatus
	// handles one wait status. Both run on the tracer thread.
	waiting  func() bool
	onStatus func(tid int, ws unix.WaitStatus)
}

// newTracerThread returns a tracer thread that starts with the first work
// sent to it.
func newTracerThread(log *slog.Logger, waiting func() bool, onStatus func(int, unix.WaitStatus)) *tracerThread {
	th := &tracerThread{
		reqs:     make(chan request),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		log:      log,
		waiting:  waiting,
		onStatus: onStatus,
	}
	if err := setUpWakeSignal(); err != nil {
		log.Warn("tracer falls back to polling its tracees", "err", err)
	} else {
		th.canWake = true
	}
	return th
}

// start starts the loop on its OS thread, unless it has started already
// or the tracer thread is closed.
func (th *tracerThread) start() {
	th.once.Do(func() {
		ready := make(chan struct{})
		go th.loop(ready)
		<-ready
		th.started.Store(true)
	})
}

func (th *tracerThread) loop(ready chan<- struct{}) {
	// Never unlocked: when this goroutine returns, its OS thread exits
	// with it, which is what we want once every tracee is gone.
	runtime.LockOSThread()
	defer close(th.done)
	th.tid = unix.Gettid()
	close(ready)

	for {
		select {
		case r := <-th.reqs:
			th.serve(r)
			continue
		case <-th.quit:
			return
		default:
		}
		if th.waiting() && th.sending.Load() == 0 {
			th.wait()
			continue
		}
		select {
		case r := <-th.reqs:
			th.serve(r)
		case <-th.quit:
			return
		}
	}
}

func (th *tracerThread) serve(r request) {
	th.sending.Add(-1) // handed over
	th.mu.Lock()
	err := th.recovered("work", r.fn)
	th.mu.Unlock()
	r.done <- err
}

// recovered runs fn on the tracer thread and returns its error, or an
// error for its panic. A panic is a bug, but it must not end procgdb: a
// dead tracer leaves the int3 bytes of every breakpoint in its tracees,
// which the kernel detaches and lets run. Recovered, the Tracer can still
// be closed, which removes them.
func (th *tracerThread) recovered(what string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			th.log.Error("tracer thread panicked", "in", what, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("tracer: internal error: %v", v)
		}
	}()
	return fn()
}

// wait blocks until one of the tracees changes state, and handles that,
// or until work arrives.
func (th *tracerThread) wait() {
	opts := unix.WALL | wNoThread
	if !th.canWake {
		opts |= unix.WNOHANG
	}
	th.blocked.Store(true)
	if th.sending.Load() > 0 {
		th.blocked.Store(false)
		return
	}
	var ws unix.WaitStatus
	tid, err := unix.Wait4(-1, &ws, opts, nil)
	th.blocked.Store(false)
	switch {
	case err == nil && tid > 0:
		th.mu.Lock()
		th.recovered("wait status", func() error { th.onStatus(tid, ws); return nil })
		th.mu.Unlock()
	case errors.Is(err, unix.EINTR):
		// Work is on its way.
	case err == nil || !th.canWake:
		// Polling: nothing yet.
		th.idle(wakeRetry)
	default:
		// ECHILD: nothing left to wait for, although the tracer thinks
		// something runs; wait for work rather than spin.
		th.log.Warn("wait", "err", err)
		th.idle(0)
	}
}

// idle waits for work, for at most d when d > 0.
func (th *tracerThread) idle(d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-th.reqs:
		th.serve(r)
	case <-th.quit:
	case <-timeout:
	}
}

// do runs fn on the tracer thread, starting it if need be, and returns
// its error.
func (th *tracerThread) do(fn func() error) error {
	th.start()
	r := request{fn: fn, done: make(chan error, 1)}
	th.sending.Add(1)
	if !th.send(r) {
		th.sending.Add(-1)
		return ErrClosed
	}
	return <-r.done
}

// send hands r to the loop, getting it out of wait4 if it is there.
func (th *tracerThread) send(r request) bool {
	select {
	case th.reqs <- r:
		return true
	case <-th.done:
		return false
	default:
	}
	th.wake()
	t := time.NewTicker(wakeRetry)
	defer t.Stop()
	for {
		select {
		case th.reqs <- r:
			return true
		case <-th.done:
			return false
		case <-t.C:
			th.wake()
		}
	}
}

// wake gets the loop out of wait4 if it is there. A sender calls it
// again every wakeRetry as long as the loop has not taken its work: the
// signal may have come just before the loop entered wait4.
func (th *tracerThread) wake() {
	if th.canWake && th.blocked.Load() {
		unix.Tgkill(unix.Getpid(), th.tid, wakeSignal)
	}
}

// read runs fn on the calling goroutine while the loop runs nothing, for
// work that only reads the Tracer's state and makes no ptrace request.
func (th *tracerThread) read(fn func() error) error {
	th.mu.RLock()
	defer th.mu.RUnlock()
	return th.unlessClosed(fn)
}

// write runs fn on the calling goroutine while the loop runs nothing, for
// work that changes the Tracer's state but makes no ptrace request.
func (th *tracerThread) write(fn func() error) error {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.unlessClosed(fn)
}

func (th *tracerThread) unlessClosed(fn func() error) error {
	select {
	case <-th.done:
		return ErrClosed
	default:
		return fn()
	}
}

func (th *tracerThread) close() {
	// A loop that never started never will: it is done.
	th.once.Do(func() { close(th.done) })
	select {
	case <-th.quit:
	default:
		close(th.quit)
	}
	// Any work gets the loop out of wait4 or its wait for work, and then
	// it sees quit.
	th.do(func() error { return nil })
	<-th.done
}
