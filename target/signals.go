package target

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Signals of a stopped thread: its siginfo_t, read and changed for the
// client, and signals sent to a thread that cannot take one where it
// stopped (signalFrom).

// Siginfo returns the siginfo_t of the signal thread tid stopped with.
func (c *Ctl) Siginfo(pid, tid int) ([]byte, error) {
	var info [siginfoSize]byte
	_, err := c.t.lookupThread(pid, tid)
	if err == nil {
		err = ptraceGetSiginfo(tid, &info)
	}
	if err != nil {
		return nil, fmt.Errorf("siginfo of %d: %w", tid, err)
	}
	return info[:], nil
}

// SetSiginfo replaces the siginfo_t (siginfoSize bytes) of the signal
// thread tid stopped with. Resumed with that signal, the thread's handler
// sees the new contents; the kernel makes a new siginfo_t only for a
// different signal than its si_signo.
func (c *Ctl) SetSiginfo(pid, tid int, info []byte) error {
	if len(info) != siginfoSize {
		return fmt.Errorf("siginfo of %d: %d bytes, want %d: %w", tid, len(info), siginfoSize, unix.EINVAL)
	}
	buf := [siginfoSize]byte(info)
	_, err := c.t.lookupThread(pid, tid)
	if err == nil {
		err = ptraceSetSiginfo(tid, &buf)
	}
	if err != nil {
		return fmt.Errorf("set siginfo of %d: %w", tid, err)
	}
	return nil
}

// signalFrom prepares the delivery of sig to th as it leaves its stop,
// resumed or detached, and returns the signal to hand to ptrace. At a
// signal-delivery-stop the kernel delivers the signal that ptrace names,
// with the stop's siginfo when it is the stop's signal: a signal the
// thread stopped with reaches it as it came, never sent again; one it
// holds after it left that stop gets its kept siginfo (deliverInfo). At
// any other stop (with the others, a new thread's, a clone, fork, exec or
// system call stop) the kernel ignores that signal: it is sent to the
// thread instead, and handle delivers it at the stop it makes.
// Must run on the loop.
func (t *Tracer) signalFrom(th *thread, sig unix.Signal) (unix.Signal, error) {
	if sig == 0 {
		return 0, nil
	}
	if !th.sigStop {
		if err := unix.Tgkill(th.proc.pid, th.tid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return 0, fmt.Errorf("send signal %d to %d: %w", sig, th.tid, err)
		}
		th.injected = sig
		return 0, nil
	}
	if sig == th.deliver && th.deliverInfo != nil {
		if err := ptraceSetSiginfo(th.tid, th.deliverInfo); err != nil && !errors.Is(err, unix.ESRCH) {
			return 0, fmt.Errorf("siginfo of %d: %w", th.tid, err)
		}
	}
	return sig, nil
}

// keepSiginfo keeps the siginfo of the signal th holds to deliver (and
// stopped with) for when it has left that stop. Must run on the loop.
// thread.
func (t *Tracer) keepSiginfo(th *thread) {
	var info [siginfoSize]byte
	if err := ptraceGetSiginfo(th.tid, &info); err != nil {
		t.log.Warn("siginfo", "tid", th.tid, "err", err)
		return
	}
	th.deliverInfo = &info
}
