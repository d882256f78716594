package target

import (
	"fmt"

	"procgdb/breakpoint"
)

// All matches every process or every thread in an Action.
const All = -1

// ActionKind says how a thread is resumed.
type ActionKind int

// Action kinds.
const (
	ActionContinue ActionKind = iota // run freely
	ActionStep                       // execute one instruction
)

// Action resumes the threads it matches. PID and TID may be All; a TID
// of 0 matches any thread too. The first action that matches a thread
// applies to it; threads no action matches stay stopped.
type Action struct {
	Kind   ActionKind
	Signal int // host signal to deliver, 0 for none
	PID    int
	TID    int
	// RangeStart and RangeEnd make an ActionStep a range step: the
	// thread steps for as long as its PC stays in [RangeStart, RangeEnd),
	// and only the step that leaves the range (or another event) is
	// reported. An empty range is one step.
	RangeStart, RangeEnd uint64
}

func (a Action) matches(pid, tid int) bool {
	return (a.PID == All || a.PID == 0 || a.PID == pid) &&
		(a.TID == All || a.TID == 0 || a.TID == tid)
}

// EventKind says why a thread or process stopped.
type EventKind int

// Event kinds.
const (
	// EventSignal: the thread stopped with Signal. An interrupt asked for
	// with Tracer.Interrupt is reported as SIGINT; the stop right after
	// Attach has Signal 0.
	EventSignal EventKind = iota
	// EventBreakpoint: the thread hit a software breakpoint and its PC has
	// been moved back to the breakpoint's address.
	EventBreakpoint
	// EventStep: a single-step finished.
	EventStep
	// EventExited: the process exited with ExitCode.
	EventExited
	// EventKilled: the process was killed by Signal.
	EventKilled
	// EventFork: the thread forked; ChildPID (thread ChildTID) is traced
	// and stopped. Only with EventOptions.Fork.
	EventFork
	// EventVFork: as EventFork, for vfork. Only with EventOptions.VFork.
	EventVFork
	// EventVForkDone: the vfork child no longer shares the parent's
	// memory. Only with EventOptions.VFork.
	EventVForkDone
	// EventExec: the process exec'd ExecPath. Only with EventOptions.Exec.
	EventExec
	// EventSyscallEntry and EventSyscallReturn: the thread enters or
	// leaves system call Syscall. Only with EventOptions.CatchSyscalls.
	EventSyscallEntry
	EventSyscallReturn
	// EventThreadCreated: thread TID started. Only with ThreadEvents.
	EventThreadCreated
	// EventThreadExited: thread TID exited with ExitCode. Only with
	// ThreadEvents.
	EventThreadExited
	// EventNoResumed: a resume found no thread to run. Only with
	// NoResumed.
	EventNoResumed
	// EventHWBreakpoint: the thread is about to run the instruction of
	// hardware breakpoint HW; it runs when the thread resumes.
	EventHWBreakpoint
	// EventWatchpoint: an instruction of the thread wrote (or, for an
	// access watchpoint, read or wrote) bytes that watchpoint HW watches.
	EventWatchpoint
	// EventClone: the thread made thread ChildTID (of process ChildPID),
	// which is stopped before its first instruction. Only for threads
	// whose ThreadOptions.Clone is set.
	EventClone
)

var eventKindNames = [...]string{"signal", "breakpoint", "step", "exited", "killed",
	"fork", "vfork", "vfork-done", "exec", "syscall-entry", "syscall-return",
	"thread-created", "thread-exited", "no-resumed", "hw-breakpoint", "watchpoint", "clone"}

// String returns the kind's name, for logs.
func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a stop worth reporting. TID is 0 for the end of a process.
type Event struct {
	Kind     EventKind
	PID      int
	TID      int
	Signal   int
	ExitCode int
	ChildPID int    // EventFork, EventVFork, EventClone
	ChildTID int    // EventFork, EventVFork, EventClone
	ExecPath string // EventExec
	Syscall  int    // EventSyscallEntry, EventSyscallReturn
	// HW is the hardware breakpoint or watchpoint, as inserted, of
	// EventHWBreakpoint and EventWatchpoint.
	HW breakpoint.HWPoint
}

// EventOptions says which optional events are reported. Without them the
// tracer handles forks, execs, system calls and threads silently: a
// forked child loses its breakpoints and is let go.
type EventOptions struct {
	Fork, VFork, Exec bool
	ThreadEvents      bool
	// CatchSyscalls stops at system call entry and return; an empty
	// Syscalls list means every call.
	CatchSyscalls bool
	Syscalls      []int
	NoResumed     bool
}

// ThreadOptions are the events reported for one thread, whatever the
// EventOptions say. A new thread has none.
type ThreadOptions struct {
	Clone bool // the threads it makes: EventClone
	Exit  bool // its exit: EventThreadExited
}

func (o *EventOptions) catches(nr int) bool {
	if !o.CatchSyscalls {
		return false
	}
	if len(o.Syscalls) == 0 {
		return true
	}
	for _, s := range o.Syscalls {
		if s == nr {
			return true
		}
	}
	return false
}
