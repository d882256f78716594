package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
)

// What each stop of a tracee means: onStatus takes the wait statuses the
// loop collects, and handle acts on each classified status once (a
// breakpoint, a new thread, a fork, an exec, a system call, an exit),
// resuming the thread when it is nothing to report; stop.go stops the
// world before a stop is reported.

// siginfo si_code values the trap classification needs.
const (
	siKernel  = 0x80 // sent by the kernel: int3 on x86
	siUser    = 0    // sent by kill
	trapTrace = 2    // TRAP_TRACE: single-step
)

// sortedThreads returns the tracer's threads with process leaders last:
// the kernel reports a leader's exit only after all its other threads
// have been reaped, so a blocking wait must reach the others first.
// Must run on the loop.
func (t *Tracer) sortedThreads(match func(*thread) bool) []*thread {
	var ths []*thread
	for _, th := range t.threads {
		if match(th) {
			ths = append(ths, th)
		}
	}
	slices.SortFunc(ths, func(a, b *thread) int {
		al, bl := a.tid == a.proc.pid, b.tid == b.proc.pid
		switch {
		case al && !bl:
			return 1
		case bl && !al:
			return -1
		}
		return a.tid - b.tid
	})
	return ths
}

// onStatus handles a wait status that the loop's loop collected
// while the processes run.
// Must run on the loop.
func (t *Tracer) onStatus(tid int, ws unix.WaitStatus) {
	if t.threads[tid] == nil {
		// A new thread or fork child can stop before its parent's clone
		// or fork event is handled: keep its stop for then. Anything
		// else (a child procgdb detached from, exiting) is no concern.
		if ws.Stopped() {
			t.early[tid] = ws
		}
		return
	}
	t.dispatch(tid, ws)
	// A clone event makes a kept first stop a known thread's.
	for tid, ws := range t.early {
		if t.threads[tid] != nil {
			delete(t.early, tid)
			t.dispatch(tid, ws)
		}
	}
}

// dispatch classifies and handles one status of a known thread; an event
// ends the run, or is kept when nothing runs (keep: in non-stop mode,
// reported). Must run on the loop.
func (t *Tracer) dispatch(tid int, ws unix.WaitStatus) {
	we := classify(tid, ws)
	t.log.Debug("wait", "event", we)
	if ev, ok := t.handle(we, false); ok {
		t.runEvent(ev)
	}
}

// runEvent takes an event a thread reached while the processes ran: it
// ends the run, or is kept when nothing runs (keep: in non-stop mode,
// reported). Must run on the loop.
func (t *Tracer) runEvent(ev inferior.Event) {
	if t.running {
		t.finish(ev)
	} else {
		t.keep(ev)
	}
}

// handle acts on one classified status and says whether it is an event
// to report. With stopping set (the world is being stopped, or one thread
// is being stepped on its own), it never resumes the thread; otherwise it
// resumes threads whose stop is not worth reporting while the tracer is
// running. Must run on the loop.
func (t *Tracer) handle(we waitEvent, stopping bool) (inferior.Event, bool) {
	th := t.threads[we.tid]
	if th == nil {
		return inferior.Event{}, false
	}
	p := th.proc
	// A thread stopped in a scratch page is put back in the original
	// code before anything looks at it.
	var padAt uint64
	if we.kind != waitExited && we.kind != waitKilled {
		if th.aside {
			t.leaveAside(th)
		}
		if len(p.scratch.pads) > 0 || th.padPending != 0 {
			padAt = t.leavePad(th, we)
		}
	}
	resume := (t.running || t.nonStop) && !stopping
	th.sigStop = we.kind == waitSignal
	switch we.kind {
	case waitExited, waitKilled:
		delete(t.threads, th.tid)
		if th.tid != p.pid {
			t.reachMemory(p)
			t.disarmRange(th)
			if t.reportsExit(th) && we.kind == waitExited {
				return inferior.Event{Kind: inferior.EventThreadExited, PID: p.pid, TID: th.tid, ExitCode: we.code}, true
			}
			return inferior.Event{}, false
		}
		// The kernel reports the leader last: the process is gone.
		t.dropProcess(p)
		if we.kind == waitKilled {
			return inferior.Event{Kind: inferior.EventKilled, PID: p.pid, Signal: int(we.sig)}, true
		}
		return inferior.Event{Kind: inferior.EventExited, PID: p.pid, ExitCode: we.code}, true

	case waitSignal:
		th.state = stopped
		if we.sig == th.injected {
			// The signal signalFrom sent for a resume: deliver it now,
			// as that resume meant to.
			th.injected = 0
			th.deliver = we.sig
			if resume {
				t.cont(th)
			}
			return inferior.Event{}, false
		}
		if we.sig == unix.SIGTRAP || padAt != 0 {
			var ev inferior.Event
			var ok bool
			if padAt != 0 {
				ev, ok = t.padHit(th, padAt)
			} else {
				ev, ok = t.trap(th)
			}
			if !ok && resume {
				t.goOn(th) // a range step goes on too
			}
			return ev, ok
		}
		// A signal for a thread the client steps is the client's
		// business even when it passes: gdb then puts a breakpoint where
		// the handler will return and lets it run, rather than find
		// itself stepping in the handler (gdbserver reports it too).
		if int(we.sig) < len(t.pass) && t.pass[we.sig] && !th.stepped {
			th.deliver = we.sig
			if resume {
				t.goOn(th)
			}
			return inferior.Event{}, false
		}
		th.sig = we.sig
		return inferior.Event{Kind: inferior.EventSignal, PID: p.pid, TID: th.tid, Signal: int(we.sig)}, true

	case waitStop:
		th.state = stopped
		switch {
		case th.newborn:
			th.newborn = false
			if th.stopReq && !stopping {
				return inferior.Event{Kind: inferior.EventSignal, PID: p.pid, TID: th.tid, Signal: int(th.stopSig)}, true
			}
			if t.opts.ThreadEvents {
				return inferior.Event{Kind: inferior.EventThreadCreated, PID: p.pid, TID: th.tid}, true
			}
		case we.sig == unix.SIGTRAP && t.interrupting && !stopping:
			t.interrupting = false
			return inferior.Event{Kind: inferior.EventSignal, PID: p.pid, TID: th.tid, Signal: int(unix.SIGINT)}, true
		case we.sig == unix.SIGTRAP && th.stopReq && !stopping:
			return inferior.Event{Kind: inferior.EventSignal, PID: p.pid, TID: th.tid, Signal: int(th.stopSig)}, true
		case stopping:
			return inferior.Event{}, false // the stop we asked for
		}
		// A new thread's first stop, a late interrupt, or a group-stop:
		// nothing to report. A group-stop is not kept (procgdb does not
		// use PTRACE_LISTEN), so a stopped program resumes at once.
		if resume {
			t.cont(th)
		}
		return inferior.Event{}, false

	case waitClone:
		th.state = stopped
		if msg, err := unix.PtraceGetEventMsg(th.tid); err == nil {
			nt := &thread{tid: int(msg), proc: p, state: running, newborn: true}
			t.threads[nt.tid] = nt
			if th.options&inferior.ThreadClone != 0 {
				if ev, ok := t.cloned(th, nt); ok {
					return ev, true
				}
			}
		} else {
			t.log.Warn("clone event without thread id", "tid", th.tid, "err", err)
		}

	case waitSyscall:
		th.state = stopped
		if ev, ok := t.syscallStop(th); ok {
			return ev, true
		}

	case waitFork, waitVFork:
		th.state = stopped
		th.vforking = we.kind == waitVFork
		ev, ok, err := t.forked(th, we.kind == waitVFork)
		if err != nil {
			t.log.Warn("fork", "tid", th.tid, "err", err)
		}
		if ok {
			return ev, true
		}

	case waitVForkDone:
		th.state = stopped
		th.vforking = false
		if t.opts.VFork {
			return inferior.Event{Kind: inferior.EventVForkDone, PID: p.pid, TID: th.tid}, true
		}
		if err := p.bps.Restore(); err != nil {
			t.log.Warn("vfork done", "tid", th.tid, "err", err)
		}

	case waitExec:
		th.state = stopped
		if err := t.execed(th); err != nil {
			t.log.Warn("exec", "tid", th.tid, "err", err)
		}
		th = t.threads[p.pid]
		if t.execCheck != nil {
			if err := t.execCheck(p.pid); err != nil {
				t.dropAtExec(p, err)
				return inferior.Event{}, false
			}
		}
		if t.opts.Exec {
			path, err := execFile(p.pid)
			if err != nil {
				t.log.Warn("exec", "pid", p.pid, "err", err)
			}
			return inferior.Event{Kind: inferior.EventExec, PID: p.pid, TID: p.pid, ExecPath: path}, true
		}

	case waitExit:
		th.state = stopped
		th.exitPending = true
		if th.tid == p.pid && !th.gone && t.othersLive(th) {
			if ev, ok := t.leaderGone(th); ok {
				return ev, true
			}
		}

	default:
		th.state = stopped
	}
	if resume && th != nil {
		t.cont(th)
	}
	return inferior.Event{}, false
}

// othersLive reports whether a thread of th's process other than th is
// still alive. Must run on the loop.
func (t *Tracer) othersLive(th *thread) bool {
	for _, o := range t.threads {
		if o.proc == th.proc && o != th && !o.gone {
			return true
		}
	}
	return false
}

// leaderGone handles the exit of a process leader whose other threads
// live on. The kernel keeps it as a zombie and reports nothing more of it
// until the whole process has ended, and /proc shows no memory for it, so
// it is hidden from the client from now on, memory is reached through
// another thread, and its end is an event when the client asked to hear
// of thread exits. Must run on the loop.
func (t *Tracer) leaderGone(th *thread) (inferior.Event, bool) {
	th.gone = true
	t.reachMemory(th.proc)
	if !t.reportsExit(th) {
		return inferior.Event{}, false
	}
	status, err := unix.PtraceGetEventMsg(th.tid)
	if err != nil {
		t.log.Warn("exit status", "tid", th.tid, "err", err)
	}
	return inferior.Event{Kind: inferior.EventThreadExited, PID: th.proc.pid, TID: th.tid, ExitCode: int(status>>8) & 0xff}, true
}

// reportsExit reports whether the client asked to hear of th's exit.
// Must run on the loop.
func (t *Tracer) reportsExit(th *thread) bool {
	return t.opts.ThreadEvents || th.options&inferior.ThreadExit != 0
}

// cloned reports that th made thread nt, for a client that asked to hear
// of th's clones: the new thread is then the client's, stopped, so its
// first stop is taken now rather than when it comes.
// Must run on the loop.
func (t *Tracer) cloned(th, nt *thread) (inferior.Event, bool) {
	ws, err := t.wait4(nt.tid)
	if err != nil {
		t.log.Warn("wait for new thread", "tid", nt.tid, "err", err)
		return inferior.Event{}, false
	}
	nt.newborn = false
	nt.state = stopped
	if we := classify(nt.tid, ws); we.kind != waitStop {
		// Not the first stop a new thread makes: handled as any, and
		// kept for later if it is news.
		if ev, ok := t.handle(we, true); ok {
			t.keep(ev)
		}
	}
	p := th.proc
	return inferior.Event{Kind: inferior.EventClone, PID: p.pid, TID: th.tid, ChildPID: p.pid, ChildTID: nt.tid}, true
}

// reachMemory makes sure that process p's memory is reached through a
// thread that still has it: the leader, or, once it is gone, another live
// thread. Must run on the loop.
func (t *Tracer) reachMemory(p *process) {
	if th := t.threads[p.mem.pid]; th != nil && !th.gone {
		return
	}
	for _, th := range t.sortedThreads(func(th *thread) bool { return th.proc == p && !th.gone }) {
		p.mem.pid = th.tid
		return
	}
}

// trap classifies a SIGTRAP stop: our breakpoint, a hardware breakpoint
// or watchpoint, the end of a single-step (none to report while a range
// step stays in its range), or a SIGTRAP the program gets for its own
// reasons.
// Must run on the loop.
func (t *Tracer) trap(th *thread) (inferior.Event, bool) {
	ev := inferior.Event{Kind: inferior.EventSignal, PID: th.proc.pid, TID: th.tid, Signal: int(unix.SIGTRAP)}
	var info [siginfoSize]byte
	if err := ptraceGetSiginfo(th.tid, &info); err != nil {
		t.log.Warn("siginfo", "tid", th.tid, "err", err)
	}
	code := int32(binary.LittleEndian.Uint32(info[8:]))
	pc, err := t.pc(th)
	switch {
	case err != nil:
		t.log.Warn("trap", "tid", th.tid, "err", err)
	case (code == siKernel || code == siUser) && pc > 0 && th.proc.bps.Planted(pc-1):
		// With its PC right past an int3 of procgdb's, the thread ran
		// it. Its SIGTRAP may carry another's siginfo: the kernel
		// merges a SIGTRAP into one already pending (seen here with
		// SI_USER for a new thread stopped by an interrupt).
		if err := t.setPC(th, pc-1); err != nil {
			t.log.Warn("rewind", "tid", th.tid, "err", err)
		}
		return t.hitInt3(th, pc-1)
	case code == siKernel && t.liftedHit(th, pc):
		// A breakpoint removed while the thread ran into it: it
		// goes back to run the instruction.
		if err := t.setPC(th, pc-1); err != nil {
			t.log.Warn("rewind", "tid", th.tid, "err", err)
		}
		return inferior.Event{}, false
	case (code == trapHWBreakpoint || code == trapTrace) && th.proc.hw.Len() > 0 && t.hwHit(th, &ev):
		// A watchpoint that a single-step tripped says so with
		// TRAP_TRACE; only DR6 tells. A hardware breakpoint whose
		// conditions are false is passed when the thread resumes.
		if ev.Kind == inferior.EventHWBreakpoint && !t.hit(th, th.proc.hw.Actions(ev.HW.Addr)) {
			return inferior.Event{}, false
		}
		return ev, true
	case th.stepping && code > 0 && th.inRange(pc):
		return inferior.Event{}, false
	case th.stepping && code > 0:
		ev.Kind, ev.Signal = inferior.EventStep, 0
		return ev, true
	}
	th.sig = unix.SIGTRAP
	return ev, true
}

// hitInt3 classifies th's hit of an int3 of procgdb's at addr, where its
// PC now is. Must run on the loop.
func (t *Tracer) hitInt3(th *thread, addr uint64) (inferior.Event, bool) {
	bps := th.proc.bps
	exit, isExit := th.exitAt(addr)
	switch {
	case isExit && !exit.Step:
		// An exit of its range step outside the range: the step ends
		// there, before any breakpoint of the client's there is hit.
		t.disarmRange(th)
		return inferior.Event{Kind: inferior.EventStep, PID: th.proc.pid, TID: th.tid}, true
	case bps.Has(addr):
		// A thread put back on a breakpoint whose conditions are false
		// (passing) stopped at it as much as one that reports it.
		th.hitAt = addr
		if !t.hit(th, bps.Actions(addr)) {
			th.passing = true
			return inferior.Event{}, false
		}
		return inferior.Event{Kind: inferior.EventBreakpoint, PID: th.proc.pid, TID: th.tid}, true
	case isExit:
		// An instruction of its range step's whose destination is not
		// known: it goes on (cont) by single-stepping it (armRange).
		return inferior.Event{}, false
	}
	// An exit of another thread's range step: stepped out of line,
	// unseen (passBreakpoint).
	th.hitAt, th.passing = addr, true
	return inferior.Event{}, false
}

// forked handles a fork or vfork event of th. When the client follows
// forks of that kind, the child is kept, stopped, with a copy of the
// parent's breakpoints, and the event is reported. Otherwise the child
// loses the breakpoints and is let go; a vfork child shares the parent's
// memory, so the breakpoints are lifted from it until vfork-done.
// Must run on the loop.
func (t *Tracer) forked(th *thread, vfork bool) (inferior.Event, bool, error) {
	msg, err := unix.PtraceGetEventMsg(th.tid)
	if err != nil {
		return inferior.Event{}, false, fmt.Errorf("child pid: %w", err)
	}
	child := int(msg)
	// The child starts traced; wait for its first stop before touching it.
	ws, err := t.wait4(child)
	if err != nil {
		return inferior.Event{}, false, fmt.Errorf("wait for child %d: %w", child, err)
	}
	if !ws.Stopped() {
		return inferior.Event{}, false, nil // already gone
	}
	p := th.proc
	if (vfork && t.opts.VFork) || (!vfork && t.opts.Fork) {
		if err := t.addProcess(child, p.attached, []int{child}); err != nil {
			ptraceDetach(child, 0)
			return inferior.Event{}, false, err
		}
		cp := t.procs[child]
		cp.forkHeld = true
		cp.unreported = true // until report hands the event out
		t.publish()
		cp.hw = p.hw.Clone() // a child's threads start with none set
		if vfork {
			// One address space: one set of breakpoints.
			cp.bps, cp.scratch = p.bps, p.scratch
		} else {
			cp.scratch = p.scratch.clone()
			if cp.bps, err = p.bps.Clone(cp.mem); err != nil {
				t.log.Warn("fork", "child", child, "err", err)
			}
		}
		kind := inferior.EventFork
		if vfork {
			kind = inferior.EventVFork
		}
		return inferior.Event{Kind: kind, PID: p.pid, TID: th.tid, ChildPID: child, ChildTID: child}, true, nil
	}
	var errs []error
	if vfork {
		errs = append(errs, p.bps.Lift())
	} else if p.bps.Len() > 0 {
		cm, err := openMemory(child)
		if err == nil {
			errs = append(errs, p.bps.StripFrom(cm), cm.close())
		} else {
			errs = append(errs, err)
		}
	}
	if err := ptraceDetach(child, 0); err != nil {
		errs = append(errs, fmt.Errorf("detach child %d: %w", child, err))
	}
	return inferior.Event{}, false, errors.Join(errs...)
}

// syscallStop classifies a system call stop and says whether the client
// asked to hear of it. Must run on the loop.
func (t *Tracer) syscallStop(th *thread) (inferior.Event, bool) {
	op, nr, err := ptraceSyscallOp(th.tid)
	if err != nil {
		t.log.Warn("syscall info", "tid", th.tid, "err", err)
		return inferior.Event{}, false
	}
	kind := inferior.EventSyscallEntry
	switch op {
	case 1: // PTRACE_SYSCALL_INFO_ENTRY
	case 2: // PTRACE_SYSCALL_INFO_EXIT: the number is in orig_rax
		kind = inferior.EventSyscallReturn
		if err := th.regs.load(th.tid, t.layout, false); err != nil {
			t.log.Warn("syscall return", "tid", th.tid, "err", err)
			return inferior.Event{}, false
		}
		nr = th.regs.set.GPR.Orig_rax
	default:
		return inferior.Event{}, false
	}
	if !t.opts.Catches(int(nr)) {
		return inferior.Event{}, false
	}
	return inferior.Event{Kind: kind, PID: th.proc.pid, TID: th.tid, Syscall: int(nr)}, true
}

// dropAtExec detaches from process p at its exec, which the exec check
// refused for reason (SetExecCheck). Nothing of p runs for the client
// any more: with no process left, the run is over. Must run on the loop.
func (t *Tracer) dropAtExec(p *process, reason error) {
	t.log.Info("detaching at exec", "pid", p.pid, "reason", reason)
	if err := t.detach(p); err != nil {
		t.log.Warn("detach at exec", "pid", p.pid, "err", err)
	}
	if len(t.procs) == 0 {
		t.running = false
	}
}

// execed handles an exec in process th.proc: the address space is new, so
// the breakpoints and the memory handle go, and only the thread that
// exec'd remains, now with the process's PID. Must run on the loop.
// thread.
func (t *Tracer) execed(th *thread) error {
	p := th.proc
	for tid, o := range t.threads {
		if o.proc == p {
			delete(t.threads, tid)
		}
	}
	leader := &thread{tid: p.pid, proc: p, state: stopped}
	t.threads[p.pid] = leader
	// The old table goes with the old address space (a vfork child's was
	// its parent's, which keeps it).
	mem, err := openMemory(p.pid)
	if err != nil {
		return err
	}
	p.mem.close()
	p.mem = mem
	p.bps = breakpoint.New(mem)
	p.scratch = &scratch{}
	p.hw = &breakpoint.HWTable{} // exec clears the debug registers
	p.lifted = nil
	return nil
}
