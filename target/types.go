package target

import "fmt"

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
)

var eventKindNames = [...]string{"signal", "breakpoint", "step", "exited", "killed"}

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
}
