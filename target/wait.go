package target

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// waitKind classifies one wait status of a tracee thread.
type waitKind int

const (
	waitExited    waitKind = iota // the thread exited; code in status
	waitKilled                    // the thread was killed by sig
	waitSignal                    // signal-delivery-stop for sig
	waitSyscall                   // syscall-entry or -exit stop
	waitClone                     // PTRACE_EVENT_CLONE: a new thread
	waitFork                      // PTRACE_EVENT_FORK
	waitVFork                     // PTRACE_EVENT_VFORK
	waitVForkDone                 // PTRACE_EVENT_VFORK_DONE
	waitExec                      // PTRACE_EVENT_EXEC
	waitExit                      // PTRACE_EVENT_EXIT: about to exit
	waitStop                      // PTRACE_EVENT_STOP: interrupt, new thread, or group-stop (sig)
	waitUnknown                   // anything else; logged and resumed
)

var waitKindNames = [...]string{"exited", "killed", "signal", "syscall", "clone", "fork", "vfork", "vfork-done", "exec", "exit", "stop", "unknown"}

func (k waitKind) String() string {
	if int(k) < len(waitKindNames) {
		return waitKindNames[k]
	}
	return fmt.Sprintf("waitKind(%d)", int(k))
}

// waitEvent is a classified wait status.
type waitEvent struct {
	kind waitKind
	tid  int
	sig  unix.Signal // the stop or termination signal
	code int         // exit code, for waitExited
}

func (e waitEvent) String() string {
	return fmt.Sprintf("%v tid %d sig %d code %d", e.kind, e.tid, int(e.sig), e.code)
}

// classify turns one wait4 status into an event, once, before anything
// acts on it. It assumes PTRACE_O_TRACESYSGOOD.
func classify(tid int, ws unix.WaitStatus) waitEvent {
	switch {
	case ws.Exited():
		return waitEvent{kind: waitExited, tid: tid, code: ws.ExitStatus()}
	case ws.Signaled():
		return waitEvent{kind: waitKilled, tid: tid, sig: ws.Signal()}
	case !ws.Stopped():
		return waitEvent{kind: waitUnknown, tid: tid}
	}
	sig := ws.StopSignal()
	if sig == unix.SIGTRAP|0x80 {
		return waitEvent{kind: waitSyscall, tid: tid, sig: unix.SIGTRAP}
	}
	ev := waitEvent{tid: tid, sig: sig}
	// The event sits above the stop signal; x/sys's TrapCause looks for
	// it only under SIGTRAP, but a group-stop's PTRACE_EVENT_STOP comes
	// with the stopping signal.
	switch int(ws>>16) & 0xff {
	case 0:
		ev.kind = waitSignal
	case unix.PTRACE_EVENT_CLONE:
		ev.kind = waitClone
	case unix.PTRACE_EVENT_FORK:
		ev.kind = waitFork
	case unix.PTRACE_EVENT_VFORK:
		ev.kind = waitVFork
	case unix.PTRACE_EVENT_VFORK_DONE:
		ev.kind = waitVForkDone
	case unix.PTRACE_EVENT_EXEC:
		ev.kind = waitExec
	case unix.PTRACE_EVENT_EXIT:
		ev.kind = waitExit
	case unix.PTRACE_EVENT_STOP:
		ev.kind = waitStop
	default:
		ev.kind = waitUnknown
	}
	return ev
}
