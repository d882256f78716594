package rsp

import (
	"context"

	"procgdb/regs"
)

// Thread ids as RSP writes them: PID and TID, where AllThreads (-1) means
// every thread or process and AnyThread (0) lets the stub choose.
const (
	AllThreads = -1
	AnyThread  = 0
)

// ThreadID names one thread, or a set of threads through AllThreads and
// AnyThread, in one process.
type ThreadID struct {
	PID int
	TID int
}

// ResumeKind says how a thread is resumed.
type ResumeKind int

// Resume kinds.
const (
	Continue ResumeKind = iota // run freely
	Step                       // execute one instruction
)

// ResumeAction is one action of a vCont (or c, s, C, S) packet.
// PID and TID may be AllThreads; actions are listed in the order the client
// sent them, and the first action that matches a thread applies to it.
type ResumeAction struct {
	Kind   ResumeKind
	Signal int // host signal number to deliver on resume, 0 for none
	PID    int
	TID    int
	// RangeStart and RangeEnd, for a Step (vCont's r action): the thread
	// steps for as long as its PC stays in [RangeStart, RangeEnd), and the
	// step that leaves the range (or any other event first) is reported.
	// An empty range is a single step.
	RangeStart, RangeEnd uint64
}

// StopKind classifies a stop event.
type StopKind int

// Stop kinds.
const (
	// StopSignal: the thread stopped with Signal (a host signal number).
	// An interrupt requested with Target.Interrupt is reported as SIGINT.
	StopSignal StopKind = iota
	// StopBreakpoint: the thread hit a software breakpoint; its PC has been
	// rewound to the breakpoint address.
	StopBreakpoint
	// StopStep: a single-step finished.
	StopStep
	// StopExited: the process exited with ExitCode.
	StopExited
	// StopKilled: the process was killed by Signal.
	StopKilled
	// StopFork: the thread forked; ChildPID and ChildTID name the new
	// process, which is traced and stopped. Only with fork events on.
	StopFork
	// StopVFork: as StopFork, for vfork. Only with vfork events on.
	StopVFork
	// StopVForkDone: the vfork child exec'd or exited; the parent shares
	// no memory with it any more. Only with vfork events on.
	StopVForkDone
	// StopExec: the process exec'd ExecPath; its threads, memory and
	// breakpoints are new. Only with exec events on.
	StopExec
	// StopSyscallEntry and StopSyscallReturn: the thread enters or
	// returns from system call Syscall. Only while syscalls are caught.
	StopSyscallEntry
	StopSyscallReturn
	// StopThreadCreated: a new thread TID started. Only with thread
	// events on.
	StopThreadCreated
	// StopThreadExited: thread TID exited with ExitCode. Only with
	// thread events on.
	StopThreadExited
	// StopNoResumed: the resume left no thread running (they all exited
	// or none could be resumed). Only if the client offered no-resumed+.
	StopNoResumed
	// StopHWBreakpoint: the thread reached the hardware breakpoint at
	// HWAddr; the instruction there has not run yet.
	StopHWBreakpoint
	// StopWatchpoint: the thread accessed bytes that the watchpoint of
	// kind HWKind at HWAddr (as inserted) watches.
	StopWatchpoint
	// StopClone: the thread made a new thread, ChildTID of process
	// ChildPID, which is stopped before its first instruction. Only for
	// threads whose ThreadOptionClone is set.
	StopClone
)

// StopEvent is what Target.WaitStop reports: why the target stopped.
// PID and TID name the thread the event belongs to (TID is 0 for process
// exits).
type StopEvent struct {
	Kind     StopKind
	PID      int
	TID      int
	Signal   int    // host signal number, for StopSignal and StopKilled
	ExitCode int    // for StopExited and StopThreadExited
	ChildPID int    // for StopFork, StopVFork and StopClone
	ChildTID int    // for StopFork, StopVFork and StopClone
	ExecPath string // for StopExec
	Syscall  int    // for StopSyscallEntry and StopSyscallReturn
	HWKind   HWKind // for StopWatchpoint
	HWAddr   uint64 // for StopHWBreakpoint and StopWatchpoint
}

// Library is one entry of the dynamic linker's list of loaded objects
// (glibc's struct link_map), as qXfer:libraries-svr4 reports it.
type Library struct {
	Name string // path as the dynamic linker recorded it
	LM   uint64 // address of its link_map
	Addr uint64 // load bias (l_addr)
	LD   uint64 // address of its dynamic section (l_ld)
}

// Target is what a Session needs from the processes it debugs, in all-stop
// mode: every method except Interrupt is called only while all threads are
// stopped, and Resume is followed by WaitStop. A Session makes every call
// from the goroutine that runs Serve: a target may (as procgdb's tracer
// does) serve the session on the one thread that controls its processes.
//
// Signals are host (Linux) signal numbers; the session translates them to
// the protocol's numbering. Errors are returned wrapped with context; the
// session maps them to error replies and keeps serving.
type Target interface {
	// Processes lists the PIDs of the processes being debugged.
	Processes() []int
	// Threads lists the live threads of process pid, main thread first.
	Threads(pid int) ([]int, error)

	// Registers returns the registers of thread t. The XSAVE area is
	// loaded only when ext is true. The returned set belongs to the
	// target's per-stop cache: it stays valid until the next Resume, and a
	// caller that changes it must then call SetRegisters.
	Registers(t ThreadID, ext bool) (*regs.Set, error)
	// SetRegisters stores s as the registers of thread t; the target
	// writes them to the thread before it next runs.
	SetRegisters(t ThreadID, s *regs.Set) error

	// ReadMemory reads len(dst) bytes at addr in process pid, showing the
	// original bytes under inserted breakpoints. It returns how many bytes
	// were read from the start of the range: fewer than len(dst) (with a
	// nil error) when the range runs into unreadable memory, and 0 with an
	// error when addr itself is unreadable.
	ReadMemory(pid int, addr uint64, dst []byte) (int, error)
	// WriteMemory writes src at addr in process pid, read-only pages
	// included, keeping inserted breakpoints in place. It returns how many
	// bytes were written.
	WriteMemory(pid int, addr uint64, src []byte) (int, error)

	// InsertBreakpoint inserts a software breakpoint at addr. Inserting at
	// an address that has one already is not an error.
	InsertBreakpoint(pid int, addr uint64) error
	// RemoveBreakpoint removes the software breakpoint at addr.
	RemoveBreakpoint(pid int, addr uint64) error

	// Resume resumes threads as the actions say; threads no action names
	// stay stopped. A thread that stopped at an inserted breakpoint and
	// is resumed with its PC still there steps over it transparently; any
	// other thread resumed at a breakpoint hits it.
	Resume(actions []ResumeAction) error
	// WaitStop blocks until the target stops after Resume (with every
	// thread stopped again) and returns the stop with stopped true; or,
	// with stopped false and no error, as soon as the client's connection
	// has bytes to read (an interrupt, or its end), which the session then
	// reads before it waits again; or until ctx is done.
	WaitStop(ctx context.Context) (ev StopEvent, stopped bool, err error)
	// Interrupt asks the running target to stop; WaitStop then reports
	// StopSignal with SIGINT. The session calls it, between its calls of
	// WaitStop, when the interrupt byte arrives.
	Interrupt() error

	// Kill kills process pid and waits until it is gone.
	Kill(pid int) error
	// Detach removes every breakpoint from process pid and lets it run
	// free of the debugger.
	Detach(pid int) error

	// SetPassSignals sets the signals that are delivered to the program
	// without stopping it (QPassSignals).
	SetPassSignals(sigs []int)

	// Auxv returns the process's auxiliary vector, as /proc/PID/auxv has it.
	Auxv(pid int) ([]byte, error)
	// ExecFile returns the absolute path of the process's executable.
	ExecFile(pid int) (string, error)
	// Libraries returns the address of the main program's link_map and
	// the shared objects after it, read from the dynamic linker's r_debug;
	// both are empty before the dynamic linker has run.
	Libraries(pid int) (mainLM uint64, libs []Library, err error)
	// Siginfo returns the kernel's siginfo_t (128 bytes) for the signal
	// thread t last stopped with.
	Siginfo(t ThreadID) ([]byte, error)
	// ThreadName returns the thread's name (its comm) and the CPU it last
	// ran on; ok is false if the thread is gone.
	ThreadInfo(t ThreadID) (name string, core int, ok bool)
}

// Range is one address range of a batched memory read.
type Range struct {
	Addr uint64
	Len  int
}

// RangeReader is implemented by targets that read several ranges of
// memory in one request (lldb's MultiMemRead, and the session's own bulk
// reads); the session falls back to one ReadMemory per range otherwise.
type RangeReader interface {
	// ReadRanges reads each range into dst at the sum of the lengths of
	// the ranges before it (len(dst) is at least the sum of all lengths),
	// showing the original bytes under inserted breakpoints. It returns,
	// per range, how many bytes were read from its start: fewer than
	// asked where it runs into unreadable memory, 0 where its start is
	// unreadable. The error is for the request as a whole (no such
	// process), not for unreadable ranges.
	ReadRanges(pid int, ranges []Range, dst []byte) ([]int, error)
}

// SiginfoWriter is implemented by targets that can change the siginfo_t
// of a stopped thread's signal (qXfer:siginfo:write, gdb's writes to
// $_siginfo); the session offers the packet only then.
type SiginfoWriter interface {
	// SetSiginfo replaces the siginfo_t (128 bytes) of the signal
	// thread t last stopped with, as Siginfo returns it. When the client
	// resumes the thread with that signal, the program's handler sees
	// the new contents.
	SetSiginfo(t ThreadID, info []byte) error
}

// HWKind is the type of a Z or z packet for hardware points.
type HWKind int

// Hardware point kinds, numbered as the Z packets' types.
const (
	HWBreakpoint HWKind = 1 // Z1: a hardware breakpoint
	HWWrite      HWKind = 2 // Z2: a write watchpoint
	HWRead       HWKind = 3 // Z3: a read watchpoint
	HWAccess     HWKind = 4 // Z4: an access (read or write) watchpoint
)

// HWPointer is implemented by targets with hardware breakpoints and
// watchpoints (Z1 to Z4). Without it, or for a kind it does not
// support, Z and z get the empty reply and gdb uses software
// watchpoints.
type HWPointer interface {
	// HWSupport reports whether points of kind can be set, and how many
	// debug registers there are (lldb's qWatchpointSupportInfo).
	HWSupport(kind HWKind) bool
	HWSlots() int
	// InsertHWPoint sets a point over [addr, addr+length) in process
	// pid, RemoveHWPoint removes one set the same way.
	InsertHWPoint(pid int, kind HWKind, addr uint64, length int) error
	RemoveHWPoint(pid int, kind HWKind, addr uint64, length int) error
}

// CondBreakpointer is implemented by targets that evaluate breakpoint
// conditions themselves, as gdb's agent expressions (the manual's "Agent
// Expressions"): a hit whose conditions are all false is not reported,
// and the program goes on. The session then offers
// ConditionalBreakpoints+ and, after inserting a software (Z0) or
// hardware (Z1) breakpoint, sets the conditions the packet carried.
type CondBreakpointer interface {
	// SetBreakpointConditions replaces the conditions of the inserted
	// breakpoint at addr (hardware or software) in process pid; none
	// make it unconditional.
	SetBreakpointConditions(pid int, hardware bool, addr uint64, conds [][]byte) error
}

// CoreReader is implemented by targets that tell the CPU a thread last
// ran on more cheaply than ThreadInfo (which also reads its name). Every
// T stop reply carries it (core:), so the session prefers it.
type CoreReader interface {
	ThreadCore(t ThreadID) (core int, ok bool)
}

// LaunchSpec says how to start a program for vRun and R.
type LaunchSpec struct {
	Program string   // path of the program
	Args    []string // its arguments, after argv[0]
	Env     []string // its whole environment, as KEY=VALUE
	Dir     string   // its working directory; "" for the stub's own
	// DisableASLR runs it without address space randomization
	// (QDisableRandomization).
	DisableASLR bool
	// Shell, when set, is the shell that starts the program as
	// `Shell -c "exec PROGRAM ARGS"` (QStartupWithShell), each argument
	// quoted so that the program receives it as the client sent it, as
	// gdbserver does: the shell expands nothing in it.
	Shell string
}

// Launcher is implemented by targets that start and attach to processes
// when the client asks (extended-remote: vRun, vAttach, R). The session
// offers those packets only when its Target is a Launcher.
//
// After Launch or Attach returns, the new process is in Processes and its
// threads in Threads, main thread first: the session replies to vRun with
// a SIGTRAP stop of that thread and to vAttach with a signal-0 stop, and
// remembers the processes it attached to for qAttached when
// Config.Attached is nil. A program that cannot be started (a missing
// file, or a startup shell that exits) is an error from Launch, not a
// process.
type Launcher interface {
	// Launch starts a program stopped at its first instruction and
	// returns its PID. Its error names the program and says why it could
	// not start; the session sends it to the client as it is.
	Launch(spec LaunchSpec) (pid int, err error)
	// Attach takes control of process pid and stops all its threads.
	// Its error names the process and says why it cannot be debugged;
	// the session sends it to the client as it is.
	Attach(pid int) error
}

// EventOptions says which optional events the client wants reported.
// Nothing else stops the program: the target follows forks, execs,
// system calls and threads silently unless asked.
type EventOptions struct {
	Fork, VFork, Exec bool // fork-events+, vfork-events+, exec-events+
	ThreadEvents      bool // QThreadEvents:1
	// CatchSyscalls turns on system call stops (QCatchSyscalls:1); an
	// empty Syscalls list catches all of them.
	CatchSyscalls bool
	Syscalls      []int
	// NoResumed lets the target report StopNoResumed.
	NoResumed bool
}

// EventTarget is implemented by targets that can report the optional
// events. The session offers fork-events+, vfork-events+, exec-events+,
// QThreadEvents, QCatchSyscalls and no-resumed+ only when its Target is
// an EventTarget, and calls SetEventOptions whenever they change.
//
// SetEventOptions is called when Serve starts (with no events: a new
// client starts clean), after qSupported, and after every QThreadEvents
// and QCatchSyscalls, which gdb toggles around every stop; it must be
// cheap, recording the options for the next Resume. It is called only
// while the target is stopped. After a StopFork or StopVFork, the child
// is in Processes and Threads, stopped, until the client detaches it
// (D;pid) or resumes it.
type EventTarget interface {
	SetEventOptions(EventOptions)
}

// ThreadOptions are the events a client asks for per thread, with
// QThreadOptions (gdb 15 and later): the GDB_THREAD_OPTION_* bits.
type ThreadOptions uint64

// Thread options.
const (
	// ThreadOptionClone: a clone of the thread stops it with StopClone,
	// the new thread stopped too.
	ThreadOptionClone ThreadOptions = 1
	// ThreadOptionExit: the thread's exit is StopThreadExited.
	ThreadOptionExit ThreadOptions = 2
)

// ThreadOptioner is implemented by targets that report clone and exit
// events for the threads that ask (ThreadOptionClone and
// ThreadOptionExit; the session offers QThreadOptions with both only when
// its Target is a ThreadOptioner). A new thread starts with none.
//
// SetThreadOptions replaces the options of thread t (a specific thread);
// it is called only while the target is stopped, for every thread when
// Serve starts (a new client starts clean) and for the threads that a
// QThreadOptions packet names.
type ThreadOptioner interface {
	SetThreadOptions(t ThreadID, o ThreadOptions) error
}
