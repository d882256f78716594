package target

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// The one-thread rule. Linux accepts ptrace requests for a tracee only
// from the thread that attached to it, and a tracee whose tracer thread
// exits is detached (or, with PTRACE_O_EXITKILL, killed). So each Tracer
// owns one goroutine locked to its OS thread for the Tracer's whole life:
// every ptrace request and every wait4 for its tracees runs there, sent
// through Do. Functions documented "Must run on the tracer thread" are
// only called from inside Do or from the loop below.
//
// Handing work to a locked OS thread costs two thread wake-ups (tens of
// microseconds of CPU on a small VM), so queries that only read the
// Tracer's state and need no ptrace (the process and thread lists,
// cached registers, memory through process_vm_readv) run on the caller
// instead, through read: the loop holds mu while it runs anything, and
// read holds it shared. Nothing but the loop ever writes the state.

// ErrClosed is returned for work sent to a Tracer after Close.
var ErrClosed = errors.New("tracer closed")

type request struct {
	fn   func() error
	done chan error
}

// thread is the tracer goroutine's end of a Tracer.
type tracerThread struct {
	// mu is held by the loop while it runs work, and shared by read.
	mu   sync.RWMutex
	reqs chan request
	quit chan struct{}
	done chan struct{}
	// onChild runs on the tracer thread whenever SIGCHLD says a tracee
	// may have changed state.
	onChild func()
}

func startTracerThread(onChild func()) *tracerThread {
	th := &tracerThread{
		reqs:    make(chan request),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		onChild: onChild,
	}
	ready := make(chan struct{})
	go th.loop(ready)
	<-ready
	return th
}

func (th *tracerThread) loop(ready chan<- struct{}) {
	// Never unlocked: when this goroutine returns, its OS thread exits
	// with it, which is what we want once every tracee is gone.
	runtime.LockOSThread()
	defer close(th.done)

	// SIGCHLD tells the tracer that some tracee stopped or exited. The
	// loop then polls its own tracees with WNOHANG, so it never reaps a
	// child that some other part of the program waits for.
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, unix.SIGCHLD)
	defer signal.Stop(sigchld)
	close(ready)

	for {
		select {
		case r := <-th.reqs:
			th.mu.Lock()
			err := r.fn()
			th.mu.Unlock()
			r.done <- err
		case <-sigchld:
			th.mu.Lock()
			th.onChild()
			th.mu.Unlock()
		case <-th.quit:
			return
		}
	}
}

// do runs fn on the tracer thread and returns its error.
func (th *tracerThread) do(fn func() error) error {
	r := request{fn: fn, done: make(chan error, 1)}
	select {
	case th.reqs <- r:
	case <-th.done:
		return ErrClosed
	}
	return <-r.done
}

// read runs fn on the calling goroutine while the loop runs nothing, for
// work that only reads the Tracer's state and makes no ptrace request.
func (th *tracerThread) read(fn func() error) error {
	th.mu.RLock()
	defer th.mu.RUnlock()
	select {
	case <-th.done:
		return ErrClosed
	default:
	}
	return fn()
}

// poke makes the loop poll its tracees as if SIGCHLD had arrived, for
// events that the kernel reported before the loop was listening.
func (th *tracerThread) poke() error {
	return th.do(func() error { th.onChild(); return nil })
}

func (th *tracerThread) close() {
	select {
	case <-th.quit:
	default:
		close(th.quit)
	}
	<-th.done
}
