// Package inferior is the vocabulary that the protocol (package rsp) and
// the tracer (package target) share about the processes being debugged:
// thread ids, resume actions, stop events, the optional events a client
// asks for, hardware breakpoints and watchpoints, memory ranges, loaded
// libraries, and the errors that become stable error replies. rsp and
// target do not know each other; both use these types, so a stop or a
// resume crosses from one to the other as it is.
//
// Signals are host (Linux) signal numbers throughout; rsp translates them
// to the protocol's numbering.
package inferior

import (
	"errors"
	"fmt"
)

// Thread ids of All and Any mean every thread (or process) and whichever
// one the stub chooses, as RSP's -1 and 0 do.
const (
	All = -1
	Any = 0
)

// ThreadID names one thread, or a set of threads through All and Any, in
// one process.
type ThreadID struct {
	PID int
	TID int
}

// ActionKind says how a thread is resumed.
type ActionKind int

// Action kinds.
const (
	Continue ActionKind = iota // run freely
	Step                       // execute one instruction, or a range
)

// Action resumes the threads it matches: PID and TID may be All, or Any
// for any thread. A resume is a list of actions in the client's order;
// the first that matches a thread applies to it, and threads no action
// matches stay stopped.
type Action struct {
	Kind   ActionKind
	Signal int // host signal to deliver, 0 for none
	PID    int
	TID    int
	// RangeStart and RangeEnd make a Step a range step (vCont's r): the
	// thread steps for as long as its PC stays in [RangeStart, RangeEnd),
	// and only the step that leaves the range (or another event first)
	// is reported. An empty range is one step.
	RangeStart, RangeEnd uint64
}

// Matches reports whether the action applies to thread tid of process
// pid.
func (a Action) Matches(pid, tid int) bool {
	return (a.PID == All || a.PID == Any || a.PID == pid) &&
		(a.TID == All || a.TID == Any || a.TID == tid)
}

// EventKind says why a thread or process stopped.
type EventKind int

// Event kinds.
const (
	// EventSignal: the thread stopped with Signal. An interrupt is
	// reported as SIGINT; the stop right after an attach has Signal 0.
	EventSignal EventKind = iota
	// EventBreakpoint: the thread hit a software breakpoint; its PC has
	// been moved back to the breakpoint's address.
	EventBreakpoint
	// EventStep: a single step (or range step) finished.
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
	// EventVForkDone: the vfork child exec'd or exited; the parent shares
	// no memory with it any more. Only with EventOptions.VFork.
	EventVForkDone
	// EventExec: the process exec'd ExecPath; its threads, memory and
	// breakpoints are new. Only with EventOptions.Exec.
	EventExec
	// EventSyscallEntry and EventSyscallReturn: the thread enters or
	// leaves system call Syscall. Only with EventOptions.CatchSyscalls.
	EventSyscallEntry
	EventSyscallReturn
	// EventThreadCreated: thread TID started. Only with ThreadEvents.
	EventThreadCreated
	// EventThreadExited: thread TID exited with ExitCode. Only with
	// ThreadEvents, or the thread's ThreadExit option.
	EventThreadExited
	// EventNoResumed: a resume found no thread to run. Only with
	// NoResumed.
	EventNoResumed
	// EventHWBreakpoint: the thread is about to run the instruction of
	// hardware breakpoint HW; it runs when the thread resumes.
	EventHWBreakpoint
	// EventWatchpoint: an instruction of the thread accessed bytes that
	// watchpoint HW (as inserted) watches.
	EventWatchpoint
	// EventClone: the thread made thread ChildTID, which is stopped until
	// it is resumed. Only for a thread with the ThreadClone option.
	EventClone
)

var eventKindNames = [...]string{"signal", "breakpoint", "step", "exited", "killed",
	"fork", "vfork", "vfork-done", "exec", "syscall-entry", "syscall-return",
	"thread-created", "thread-exited", "no-resumed", "hw-breakpoint", "watchpoint", "clone"}

// String returns the kind's name, for logs.
func (k EventKind) String() string {
	if int(k) >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// ThreadStop reports whether an event of kind k leaves a thread stopped
// that can be examined, rather than telling of a process or thread that
// is gone (or of none left to run).
func (k EventKind) ThreadStop() bool {
	switch k {
	case EventExited, EventKilled, EventThreadExited, EventNoResumed:
		return false
	}
	return true
}

// Event is a stop worth reporting: PID and TID name the thread it belongs
// to (TID is 0 for the end of a process).
type Event struct {
	Kind     EventKind
	PID      int
	TID      int
	Signal   int    // EventSignal, EventKilled
	ExitCode int    // EventExited, EventThreadExited
	ChildPID int    // EventFork, EventVFork
	ChildTID int    // EventFork, EventVFork, EventClone
	ExecPath string // EventExec
	Syscall  int    // EventSyscallEntry, EventSyscallReturn
	// HW is the hardware breakpoint or watchpoint, as inserted, of
	// EventHWBreakpoint and EventWatchpoint.
	HW HWPoint
}

// EventOptions says which optional events the client wants reported.
// Nothing else stops the program: forks, execs, system calls and threads
// are followed silently unless asked for.
type EventOptions struct {
	Fork, VFork, Exec bool // fork-events+, vfork-events+, exec-events+
	ThreadEvents      bool // QThreadEvents:1
	// CatchSyscalls stops at system call entry and return
	// (QCatchSyscalls:1); an empty Syscalls list catches every call.
	CatchSyscalls bool
	Syscalls      []int
	// NoResumed allows EventNoResumed (no-resumed+).
	NoResumed bool
}

// Catches reports whether system call nr stops the program.
func (o *EventOptions) Catches(nr int) bool {
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

// ThreadOptions are the events one thread reports whatever EventOptions
// says (QThreadOptions), as the protocol's bits.
type ThreadOptions uint64

// Thread options.
const (
	ThreadClone ThreadOptions = 1 << 0 // EventClone for threads it makes
	ThreadExit  ThreadOptions = 1 << 1 // EventThreadExited when it exits
)

// HWKind is what a hardware breakpoint or watchpoint traps on, numbered
// as the Z packets' types.
type HWKind int

// Hardware point kinds. x86 has no watchpoint for reads alone.
const (
	HWExec   HWKind = 1 // executing the instruction at the address (Z1)
	HWWrite  HWKind = 2 // writing the watched bytes (Z2)
	HWRead   HWKind = 3 // reading them (Z3)
	HWAccess HWKind = 4 // reading or writing them (Z4)
)

// String returns the kind as a debugger says it.
func (k HWKind) String() string {
	switch k {
	case HWExec:
		return "hardware breakpoint"
	case HWWrite:
		return "write watchpoint"
	case HWRead:
		return "read watchpoint"
	case HWAccess:
		return "access watchpoint"
	}
	return fmt.Sprintf("HWKind(%d)", int(k))
}

// HWPoint is one hardware breakpoint or watchpoint as the client asked
// for it: a kind and a range of any length and alignment.
type HWPoint struct {
	Kind HWKind
	Addr uint64
	Len  int
}

// Range is one address range of a batched memory read.
type Range struct {
	Addr uint64
	Len  int
}

// Library is one entry of the dynamic linker's list of loaded objects
// (glibc's struct link_map), as qXfer:libraries-svr4 reports it.
type Library struct {
	Name string // path as the dynamic linker recorded it
	LM   uint64 // address of its link_map
	Addr uint64 // load bias (l_addr)
	LD   uint64 // address of its dynamic section (l_ld)
}

// Errors of requests about the processes, which rsp turns into stable
// error replies.
var (
	// ErrNoProcess: the request names a process that is not debugged.
	ErrNoProcess = errors.New("no such process")
	// ErrNoThread: the request names a thread that is not traced.
	ErrNoThread = errors.New("no such thread")
	// ErrRunning: the request needs the process or thread stopped.
	ErrRunning = errors.New("process is running")
	// ErrNothingToResume: a resume matched no stopped thread.
	ErrNothingToResume = errors.New("no thread to resume")
)
