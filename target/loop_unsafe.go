package target

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls of the loop (loop.go) that golang.org/x/sys/unix lacks
// or makes with the wrong kind of call. All are raw (RawSyscall6), unseen
// by the Go scheduler, those that block included: the loop has a
// processor of its own (addProc), and a signal ends its waits.

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

// ppoll waits for fds for at most timeout (for ever when negative) and
// returns how many are ready; a signal ends it early with 0.
func ppoll(fds []unix.PollFd, timeout time.Duration) (int, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(timeout.Nanoseconds())
		ts = &t
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)),
		uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	switch errno {
	case 0:
		return int(n), nil
	case unix.EINTR:
		return 0, nil
	}
	return 0, fmt.Errorf("ppoll: %w", errno)
}

// rawWait4 is wait4(pid, options) made raw, as every wait of the loop is
// (a signal ends one that blocks with EINTR). It returns tid 0 when
// WNOHANG finds nothing.
func rawWait4(pid, options int) (int, unix.WaitStatus, error) {
	var ws unix.WaitStatus
	tid, _, errno := unix.RawSyscall6(unix.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(&ws)),
		uintptr(options), 0, 0, 0)
	if errno != 0 {
		return 0, ws, errno
	}
	return int(tid), ws, nil
}

// wait4Blocking waits for a status of any of the calling thread's own
// tracees (__WALL|__WNOTHREAD); a signal ends it with EINTR.
func wait4Blocking() (int, unix.WaitStatus, error) {
	return rawWait4(-1, unix.WALL|wNoThread)
}

// waitNoHang returns a status of one of the calling thread's own tracees
// if one is ready, or tid 0.
func waitNoHang() (int, unix.WaitStatus, error) {
	return rawWait4(-1, unix.WALL|wNoThread|unix.WNOHANG)
}

// sigevent is the kernel's struct sigevent for SIGEV_THREAD_ID.
type sigevent struct {
	value  uint64
	signo  int32
	notify int32
	tid    int32
	_      [44]byte
}

const sigevThreadID = 4 // SIGEV_THREAD_ID

// timerCreate makes a CLOCK_MONOTONIC timer that sends sig to thread tid
// alone.
func timerCreate(tid int, sig unix.Signal) (int32, error) {
	ev := sigevent{signo: int32(sig), notify: sigevThreadID, tid: int32(tid)}
	var id int32
	_, _, errno := unix.RawSyscall(unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC,
		uintptr(unsafe.Pointer(&ev)), uintptr(unsafe.Pointer(&id)))
	if errno != 0 {
		return 0, errno
	}
	return id, nil
}

// timerSet makes the timer fire after d and every d after that, or not at
// all when d is 0.
func timerSet(id int32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	spec := struct{ interval, value unix.Timespec }{interval: ts, value: ts}
	unix.RawSyscall6(unix.SYS_TIMER_SETTIME, uintptr(id), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
}

func timerDelete(id int32) { unix.RawSyscall(unix.SYS_TIMER_DELETE, uintptr(id), 0, 0) }

// fcntlSetOwnThread makes thread tid alone the owner of fd's signals
// (F_SETOWN_EX with F_OWNER_TID).
func fcntlSetOwnThread(fd, tid int) error {
	own := struct{ typ, pid int32 }{0, int32(tid)} // F_OWNER_TID
	_, _, errno := unix.RawSyscall(unix.SYS_FCNTL, uintptr(fd), unix.F_SETOWN_EX, uintptr(unsafe.Pointer(&own)))
	if errno != 0 {
		return errno
	}
	return nil
}
