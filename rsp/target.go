package rsp

import (
	"context"

	"procgdb/inferior"
	"procgdb/regs"
)

// Target is what a Session needs from the processes it debugs, in all-stop
// mode: every method except Interrupt is called only while all threads are
// stopped, and Resume is followed by WaitStop. (A NonStopper also runs in
// non-stop mode, where that differs; see NonStopper.) A Session makes every call
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
	Registers(t inferior.ThreadID, ext bool) (*regs.Set, error)
	// SetRegisters stores s as the registers of thread t; the target
	// writes them to the thread before it next runs.
	SetRegisters(t inferior.ThreadID, s *regs.Set) error

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
	Resume(actions []inferior.Action) error
	// WaitStop blocks until the target stops after Resume (with every
	// thread stopped again) and returns the stop with stopped true; or,
	// with stopped false and no error, as soon as the client's connection
	// has bytes to read (an interrupt, or its end), which the session then
	// reads before it waits again; or until ctx is done.
	WaitStop(ctx context.Context) (ev inferior.Event, stopped bool, err error)
	// Interrupt asks the running target to stop; WaitStop then reports
	// inferior.EventSignal with SIGINT. The session calls it, between its calls of
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
	Libraries(pid int) (mainLM uint64, libs []inferior.Library, err error)
	// Siginfo returns the kernel's siginfo_t (128 bytes) for the signal
	// thread t last stopped with.
	Siginfo(t inferior.ThreadID) ([]byte, error)
	// ThreadName returns the thread's name (its comm) and the CPU it last
	// ran on; ok is false if the thread is gone.
	ThreadInfo(t inferior.ThreadID) (name string, core int, ok bool)
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
	ReadRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error)
}

// SiginfoWriter is implemented by targets that can change the siginfo_t
// of a stopped thread's signal (qXfer:siginfo:write, gdb's writes to
// $_siginfo); the session offers the packet only then.
type SiginfoWriter interface {
	// SetSiginfo replaces the siginfo_t (128 bytes) of the signal
	// thread t last stopped with, as Siginfo returns it. When the client
	// resumes the thread with that signal, the program's handler sees
	// the new contents.
	SetSiginfo(t inferior.ThreadID, info []byte) error
}

// HWPointer is implemented by targets with hardware breakpoints and
// watchpoints (Z1 to Z4). Without it, or for a kind it does not
// support, Z and z get the empty reply and gdb uses software
// watchpoints.
type HWPointer interface {
	// HWSupport reports whether points of kind can be set, and how many
	// debug registers there are (lldb's qWatchpointSupportInfo).
	HWSupport(kind inferior.HWKind) bool
	HWSlots() int
	// InsertHWPoint sets point p in process pid, RemoveHWPoint removes
	// one set the same way.
	InsertHWPoint(pid int, p inferior.HWPoint) error
	RemoveHWPoint(pid int, p inferior.HWPoint) error
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

// CmdBreakpointer is implemented by targets that run breakpoint commands
// themselves (gdb's dprintf with `set dprintf-style agent`, agent
// expressions whose printf the target prints): at a hit that counts, the
// commands run and the program goes on, unreported. The session then
// offers BreakpointCommands+ and, after inserting a software (Z0) or
// hardware (Z1) breakpoint, sets the commands the packet carried.
type CmdBreakpointer interface {
	// SetBreakpointCommands replaces the commands of the inserted
	// breakpoint at addr (hardware or software) in process pid; none
	// take them away. persist asks for them to run on after the client
	// disconnects.
	SetBreakpointCommands(pid int, hardware bool, addr uint64, cmds [][]byte, persist bool) error
}

// CoreReader is implemented by targets that tell the CPU a thread last
// ran on more cheaply than ThreadInfo (which also reads its name). Every
// T stop reply carries it (core:), so the session prefers it.
type CoreReader interface {
	ThreadCore(t inferior.ThreadID) (core int, ok bool)
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

// EventTarget is implemented by targets that can report the optional
// events. The session offers fork-events+, vfork-events+, exec-events+,
// QThreadEvents, QCatchSyscalls and no-resumed+ only when its Target is
// an EventTarget, and calls SetEventOptions whenever they change.
//
// SetEventOptions is called when Serve starts (with no events: a new
// client starts clean), after qSupported, and after every QThreadEvents
// and QCatchSyscalls, which gdb toggles around every stop; it must be
// cheap, recording the options for the next Resume. It is called only
// while the target is stopped. After an inferior.EventFork or inferior.EventVFork, the child
// is in Processes and Threads, stopped, until the client detaches it
// (D;pid) or resumes it.
type EventTarget interface {
	SetEventOptions(inferior.EventOptions)
}

// ThreadOptioner is implemented by targets that report clone and exit
// events for the threads that ask (inferior.ThreadClone and
// inferior.ThreadExit; the session offers QThreadOptions with both only when
// its Target is a ThreadOptioner). A new thread starts with none.
//
// SetThreadOptions replaces the options of thread t (a specific thread);
// it is called only while the target is stopped, for every thread when
// Serve starts (a new client starts clean) and for the threads that a
// QThreadOptions packet names.
type ThreadOptioner interface {
	SetThreadOptions(t inferior.ThreadID, o inferior.ThreadOptions) error
}
