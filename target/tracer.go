package target

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
	"procgdb/regs"
)

// Tracer debugs a set of processes, in all-stop mode unless it is
// switched to non-stop mode (SetNonStop). Its loop, the
// goroutine that made it with NewTracer, owns all of its state and makes
// every ptrace request (loop.go says why): that goroutine works through the
// Tracer's Ctl, and any other goroutine through Do.
type Tracer struct {
	loop    *loop // nil until the first Launch or Attach (start)
	started atomic.Bool
	woken   atomic.Bool // Wake was called
	ctl     Ctl
	log     *slog.Logger
	layout  *regs.Layout

	// Owned by the loop.
	closed bool
	// reported is the event that ended a Resume, until Wait takes it
	// (hasReported).
	reported    inferior.Event
	hasReported bool
	// nonStop: each thread stops and runs on its own (nonstop.go); ready
	// holds the events WaitStop has yet to hand out, in order.
	nonStop bool
	ready   []inferior.Event
	// Park's (park.go): whether the tracer watches its stopped processes
	// while no client is connected, and the ends it saw.
	parked       bool
	ended        []inferior.Event
	procs        map[int]*process
	threads      map[int]*thread
	running      bool // resumed, and the stop not yet reported
	interrupting bool // Interrupt was asked while running
	// passed: a thread was just let go past a breakpoint it hit (a
	// false condition, a dprintf): it may well hit it again within
	// moments, which the loop then looks for before it sleeps.
	passed  bool
	queue   []inferior.Event        // events seen while stopping the world, reported on later resumes
	early   map[int]unix.WaitStatus // first stops of threads not known yet (onStatus)
	pass    [65]bool                // by host signal number; Linux has 64
	lastTID int                     // thread of the last reported event
	opts    inferior.EventOptions
	// cmdOut receives the text of breakpoint commands (cond.go).
	cmdOut io.Writer
	// noDebugRegs: write watchpoints are emulated by single-stepping
	// (softwatch.go), and no debug register is written.
	noDebugRegs bool
	// execCheck, when set, decides at each exec whether the tracer may
	// keep the process (SetExecCheck).
	execCheck func(pid int) error

	// cores serves ThreadCore (core.go).
	cores coreCache

	// pub is what Report shows of the processes, published by the loop
	// (report.go) under pubMu.
	pubMu sync.Mutex
	pub   []ProcessReport
}

// Ctl is a Tracer as its loop uses it: each of its methods must run on
// the loop (NewTracer's caller, or a function Tracer.Do runs), which is
// where the only Ctl of a Tracer is handed out.
type Ctl struct{ t *Tracer }

// process is one debugged process.
type process struct {
	pid      int
	attached bool // attached to, rather than launched
	// forkHeld: a fork or vfork child, reported and kept stopped, that no
	// resume has reached yet (HeldForks).
	forkHeld bool
	// unreported: a fork or vfork child whose event waits in the queue.
	// The client has not heard of it, so it is hidden until the event is
	// reported, and it goes with its parent when the parent is detached,
	// killed or ends first.
	unreported bool
	mem        *memory
	bps        *breakpoint.Table
	// scratch: the pages of out-of-line steps (outofline.go), shared
	// with a vfork child as bps is.
	scratch *scratch
	hw      *breakpoint.HWTable // hardware breakpoints and watchpoints
	// watched: the bytes of hw's watchpoints at the last resume, while
	// they are emulated (softwatch.go).
	watched []watched
	// lifted: the addresses of the last breakpoints removed in non-stop
	// mode (RemoveBreakpoint).
	lifted []uint64
}

type threadState int

const (
	stopped threadState = iota
	running
)

// thread is one traced thread.
type thread struct {
	tid      int
	proc     *process
	state    threadState
	stepping bool // resumed with PTRACE_SINGLESTEP
	// stepped: the client asked for the thread to be stepped (an
	// inferior.Step) in the resume under way.
	stepped bool
	// rangeStart and rangeEnd: a range step goes on while the PC is in
	// [rangeStart, rangeEnd) (inferior.Action).
	rangeStart, rangeEnd uint64
	newborn              bool // auto-attached by a clone event; its first stop is still due
	// hitAt is the address of the breakpoint the thread stopped at
	// (inferior.EventBreakpoint), 0 after any other stop: only such a thread
	// steps over a breakpoint by itself (Resume).
	hitAt uint64
	// gone: the process leader, exiting (then a zombie) while other
	// threads live on. The kernel reports its end only with the
	// process's, but for the client it no longer exists.
	gone bool
	// options are the events the client asked for this thread alone.
	options inferior.ThreadOptions
	// stopReq: in non-stop mode, the client asked for the running thread
	// to stop (Stop, Interrupt); its stop is reported with stopSig (0, or
	// SIGINT for an interrupt) unless another event comes first.
	stopReq bool
	stopSig unix.Signal
	// passing: put back on a software breakpoint whose conditions were
	// false; it must step over it before it runs on (cond.go).
	passing bool
	// aside: sent to run through a displaced copy in a scratch page
	// (stepAside); its next stop maps its PC back (leaveAside).
	aside bool
	// padPending is the breakpoint a thread hit through its pad's trap,
	// whose SIGTRAP is still to come (leavePad).
	padPending uint64
	// sig is the signal the thread stopped with and the client was told
	// about, delivered on resume only if the client asks for it.
	sig unix.Signal
	// deliver is a signal the thread must get when it next runs: one
	// that passes silently, or one the client resumed it with in a resume
	// that reported another thread's event instead. deliverInfo, when
	// set, is its siginfo, kept when the thread left the signal's own
	// stop (signalFrom).
	deliver     unix.Signal
	deliverInfo *[siginfoSize]byte
	// sigStop: the thread is in a signal-delivery-stop, where a resume
	// delivers the signal it names; the kernel ignores that signal at
	// other stops (ptrace event stops). injected is a signal sent to the
	// thread instead (signalFrom), whose stop is taken as the resume's.
	sigStop  bool
	injected unix.Signal
	// exitPending: stopped at PTRACE_EVENT_EXIT; dying: resumed from it.
	// A dying thread never stops again, so nobody waits for it to stop.
	exitPending, dying bool
	// vforking: the thread vforked and, once resumed, waits for its child
	// to exec or exit; the kernel does not stop it for an interrupt until
	// then, so nobody waits for it to stop.
	vforking bool
	regs     regCache
	hwGen    uint64 // the proc.hw.Gen its debug registers hold
	// exits: the internal breakpoints of its range step while it runs
	// at full speed (rangestep.go).
	exits []breakpoint.RangeExit
	// stepFrom is the PC its last single-step started from, when the
	// registers were at hand; 0 when not known (softwatch.go).
	stepFrom uint64
}

// inRange reports whether a range-stepping thread's PC is still in its
// range. Must run on the loop.
func (th *thread) inRange(pc uint64) bool {
	return th.stepping && pc >= th.rangeStart && pc < th.rangeEnd
}

// hidden reports whether the client does not see the thread: it has not
// made its first stop yet, it is a leader that is gone, or its process
// is a fork child the client has not heard of.
func (th *thread) hidden() bool { return th.newborn || th.gone || th.proc.unreported }

// unstoppable reports whether the thread cannot be stopped now: it is
// dying, or waiting for a vfork child. Such a thread reports its next
// stop by itself, later.
func (th *thread) unstoppable() bool {
	return th.state == running && (th.dying || th.vforking)
}

// NewTracer returns a tracer, with no process yet. The goroutine that
// will use it (a client's session, or procgdb's main goroutine) uses its
// Ctl; the tracer's first Launch or Attach makes that goroutine the
// tracer's loop: it locks it to its OS thread for the rest of the
// goroutine's life. Until then the tracer costs no thread, and its Ctl
// answers as a tracer without processes. Other goroutines reach a started
// tracer with Do, which runs their function the next time the loop waits:
// in the waits of a session it serves (WaitInput, Wait, WaitStop) or,
// between sessions, in Park. Before its goroutine ends, the loop must
// Close the tracer, or its tracees are left to the kernel: launched ones
// killed, attached ones detached with their breakpoints in place.
//
// layout describes the XSAVE area of this machine (regs.HostLayout); with
// an FXSAVE layout (regs.FXSaveLayout, as on kernels without XSAVE) the x87
// and SSE registers are read and written with PTRACE_GETFPREGS and
// SETFPREGS. log may be nil.
func NewTracer(layout *regs.Layout, log *slog.Logger) *Tracer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tracer{
		log:     log,
		layout:  layout,
		procs:   make(map[int]*process),
		threads: make(map[int]*thread),
		early:   make(map[int]unix.WaitStatus),
	}
	t.ctl.t = t
	return t
}

// Ctl returns the tracer's Ctl, for the goroutine that uses the tracer
// (see NewTracer).
func (t *Tracer) Ctl() *Ctl { return &t.ctl }

// ErrNotStarted is returned by Do for a tracer that never launched or
// attached, which has no loop to run work.
var ErrNotStarted = errors.New("tracer not started")

// start makes the calling goroutine the tracer's loop, if no goroutine
// is yet. Must run on the goroutine that uses the Ctl.
func (t *Tracer) start() error {
	if t.loop != nil {
		return nil
	}
	if t.closed {
		return ErrClosed
	}
	l, err := newLoop(t.log)
	if err != nil {
		return fmt.Errorf("tracer: %w", err)
	}
	t.started.Store(true)
	t.loop = l
	return nil
}

// Started reports whether the tracer has a loop (it launched or
// attached). It may be called from any goroutine.
func (t *Tracer) Started() bool { return t.started.Load() }

// Do runs fn on the tracer's loop, with its Ctl, and returns fn's error;
// ErrNotStarted for a tracer that never started, ErrClosed once it is
// closed. It must not be called from the loop itself, where it would
// wait for ever.
func (t *Tracer) Do(fn func(c *Ctl) error) error {
	if !t.started.Load() {
		return ErrNotStarted
	}
	return t.loop.do(func() error {
		if t.closed {
			return ErrClosed
		}
		return fn(&t.ctl)
	})
}

// Layout returns the register layout the tracer was made with.
func (t *Tracer) Layout() *regs.Layout { return t.layout }

// Close closes a started tracer from any goroutine but its loop's (which
// calls Ctl.Close): see Ctl.Close. A tracer that never started has
// nothing to let go.
func (t *Tracer) Close() error {
	err := t.Do(func(c *Ctl) error { return c.Close() })
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrNotStarted) {
		return nil
	}
	return err
}

// Close kills the processes the tracer launched and detaches from those
// it attached to, their breakpoints removed, and ends the loop: later
// work fails with ErrClosed, and a wait of the loop in progress returns
// it. The loop's goroutine should end once it returns.
func (c *Ctl) Close() error {
	t := c.t
	if t.closed {
		return nil
	}
	var errs []error
	if t.running || t.anyRunning() {
		errs = append(errs, t.stopAll())
		t.running = false
	}
	for _, p := range t.procList() {
		if t.procs[p.pid] != p {
			continue // gone with its parent
		}
		if p.attached {
			errs = append(errs, t.detach(p))
		} else {
			errs = append(errs, t.kill(p))
		}
	}
	t.closed = true
	t.cores.closeAll()
	if t.loop != nil {
		t.loop.release()
	}
	return errors.Join(errs...)
}

// HeldForks lists the fork and vfork children that were reported to the
// client and have not run since. gdb decides about a new child (follow
// it, keep it, detach it) at its next resume; a client that goes away
// before that leaves the child held, and a parent that waits for it (or,
// after vfork, cannot run without it) held with it.
func (c *Ctl) HeldForks() []int {
	var pids []int
	for _, p := range c.t.procList() {
		if p.forkHeld && !p.unreported {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// Processes lists the PIDs being debugged, ascending.
func (c *Ctl) Processes() []int {
	var pids []int
	for pid, p := range c.t.procs {
		if !p.unreported {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// Threads lists the threads of process pid, main thread first.
func (c *Ctl) Threads(pid int) ([]int, error) {
	if p := c.t.procs[pid]; p == nil || p.unreported {
		return nil, fmt.Errorf("threads of %d: %w", pid, inferior.ErrNoProcess)
	}
	return c.t.threadsOf(pid), nil
}

// threadsOf lists a process's threads, leader first then by TID.
// Must run on the loop.
func (t *Tracer) threadsOf(pid int) []int {
	var tids []int
	for tid, th := range t.threads {
		if th.proc.pid == pid && !th.hidden() {
			tids = append(tids, tid)
		}
	}
	slices.SortFunc(tids, func(a, b int) int {
		switch {
		case a == pid:
			return -1
		case b == pid:
			return 1
		}
		return a - b
	})
	return tids
}

// procList returns the processes in PID order. Must run on the loop.
// thread.
func (t *Tracer) procList() []*process {
	ps := make([]*process, 0, len(t.procs))
	for _, p := range t.procs {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *process) int { return a.pid - b.pid })
	return ps
}

// lookup returns process pid, which must not be running in all-stop mode
// (in non-stop mode each thread says whether it runs: lookupThread).
// Must run on the loop.
func (t *Tracer) lookup(pid int) (*process, error) {
	p, err := t.lookupLive(pid)
	if err == nil && t.running {
		return nil, fmt.Errorf("process %d: %w", pid, inferior.ErrRunning)
	}
	return p, err
}

// lookupLive returns process pid, stopped or running, in either mode:
// for what works on a running process, reading its memory above all
// (process_vm_readv and /proc/PID/mem need no ptrace stop). Must run on
// the loop.
func (t *Tracer) lookupLive(pid int) (*process, error) {
	p := t.procs[pid]
	if p == nil || p.unreported {
		return nil, fmt.Errorf("process %d: %w", pid, inferior.ErrNoProcess)
	}
	return p, nil
}

// lookupThread returns a stopped thread. Must run on the loop.
func (t *Tracer) lookupThread(pid, tid int) (*thread, error) {
	th := t.threads[tid]
	if th == nil || th.hidden() || (pid > 0 && th.proc.pid != pid) {
		return nil, fmt.Errorf("thread %d.%d: %w", pid, tid, inferior.ErrNoThread)
	}
	if t.running || (t.nonStop && th.state != stopped) {
		return nil, fmt.Errorf("thread %d: %w", tid, inferior.ErrRunning)
	}
	return th, nil
}

// SetExecCheck makes check decide, at each exec of a traced process,
// whether the tracer keeps it: check runs on the loop at the exec event,
// before anything of it is reported and before the new program runs an
// instruction. When it returns an error the tracer detaches from the
// process there (it runs the new program untraced), logs why, and
// reports nothing of it: check's caller tells its client. procgdb's
// daemon (--proc-dir) checks again there whether its client may debug
// the process, which a set-user-ID program may have made another user's
// (a privileged tracer's tracee gets the program's privileges). nil
// checks nothing.
func (c *Ctl) SetExecCheck(check func(pid int) error) { c.t.execCheck = check }

// IsAttached reports whether the tracer attached to pid rather than
// launching it.
func (c *Ctl) IsAttached(pid int) bool {
	p := c.t.procs[pid]
	return p != nil && p.attached
}

// siginfoSize is sizeof(siginfo_t).
const siginfoSize = 128
