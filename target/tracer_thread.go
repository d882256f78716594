package target

import (
	"errors"
	"os"
	"os/signal"
	"runtime"

	"golang.org/x/sys/unix"
)

// The one-thread rule. Linux accepts ptrace requests for a tracee only
// from the thread that attached to it, and a tracee whose tracer thread
// exits is detached (or, with PTRACE_O_EXITKILL, killed). So each Tracer
// owns one goroutine locked to its OS thread for the Tracer's whole life:
// every ptrace request and every wait4 for its tracees runs there, sent
// through Do. Functions documented "Must run on the tracer thread" are
// only called from inside Do or from the loop below.

// ErrClosed is returned for work sent to a Tracer after Close.
var ErrClosed = errors.New("tracer closed")

type request struct {
	fn   func() error
	done chan error
}

// thread is the tracer goroutine's end of a Tracer.
type tracerThread struct {
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
			r.done <- r.fn()
		case <-sigchld:
			th.onChild()
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
