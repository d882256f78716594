package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"procgdb/agentexpr"
	"procgdb/breakpoint"
	"procgdb/inferior"
)

// Conditional breakpoints: the client may give a breakpoint conditions
// and commands (agent expressions, package agentexpr), evaluated here when
// a thread hits it (breakpoint.Actions.Hit). A hit whose conditions are
// all false is not an event: the thread goes on as if the breakpoint were
// not there; nor is one whose commands ran (gdb's dprintf, their printf
// text written to the tracer's command output). A hardware
// breakpoint stops the thread before its instruction, which runs when the
// thread resumes (the resume flag), so the thread just goes on. A
// software breakpoint has been executed: the thread is put back on it
// (passing) and must step over it, out of line where it can
// (outofline.go), as when the client resumes a thread that sits on one.

// SetBreakpointConditions gives the software breakpoint at addr in
// process pid its conditions, agent expression bytecode; none make it
// unconditional. Bytecode that does not verify is refused.
func (c *Ctl) SetBreakpointConditions(pid int, addr uint64, conds [][]byte) error {
	progs, err := compileConditions(conds)
	if err != nil {
		return err
	}
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	return p.bps.SetConditions(addr, progs)
}

// SetHWBreakpointConditions gives the hardware breakpoint at addr in
// process pid its conditions; none make it unconditional.
func (c *Ctl) SetHWBreakpointConditions(pid int, addr uint64, conds [][]byte) error {
	progs, err := compileConditions(conds)
	if err != nil {
		return err
	}
	return c.t.changeHW(pid, func(hw *breakpoint.HWTable) error { return hw.SetConditions(addr, progs) })
}

// SetBreakpointCommands gives the software breakpoint at addr in process
// pid its commands, agent expression bytecode run at each hit that
// counts, whose printf text goes to the command output
// (SetCommandOutput); none take them away. persist asks for them to run
// on after the client disconnects. Bytecode that does not verify is
// refused.
func (c *Ctl) SetBreakpointCommands(pid int, addr uint64, cmds [][]byte, persist bool) error {
	progs, err := compileAll("command", cmds)
	if err != nil {
		return err
	}
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	return p.bps.SetCommands(addr, progs, persist)
}

// SetHWBreakpointCommands gives the hardware breakpoint at addr in
// process pid its commands, as SetBreakpointCommands does.
func (c *Ctl) SetHWBreakpointCommands(pid int, addr uint64, cmds [][]byte, persist bool) error {
	progs, err := compileAll("command", cmds)
	if err != nil {
		return err
	}
	return c.t.changeHW(pid, func(hw *breakpoint.HWTable) error { return hw.SetCommands(addr, progs, persist) })
}

// SetCommandOutput sets where breakpoint commands print (gdbserver
// prints to its standard output); nil discards their text.
func (c *Ctl) SetCommandOutput(w io.Writer) { c.t.cmdOut = w }

// compileConditions verifies and compiles each condition.
func compileConditions(conds [][]byte) ([]*agentexpr.Program, error) {
	return compileAll("condition", conds)
}

// compileAll verifies and compiles each bytecode, what the error names.
func compileAll(what string, codes [][]byte) ([]*agentexpr.Program, error) {
	progs := make([]*agentexpr.Program, len(codes))
	for i, c := range codes {
		p, err := agentexpr.Compile(c)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i+1, err)
		}
		progs[i] = p
	}
	return progs, nil
}

// condEnv is what a condition reads: the registers and memory of the
// thread that hit the breakpoint. Must be used on the loop.
type condEnv struct {
	t  *Tracer
	th *thread
}

func (e condEnv) Register(n int) (uint64, error) {
	c := &e.th.regs
	if err := c.load(e.th.tid, e.t.layout, false); err != nil {
		return 0, err
	}
	var buf [16]byte
	b, err := c.set.AppendRegister(buf[:0], n)
	if err != nil {
		// Not a general register: it lives in the XSAVE area.
		if err := c.load(e.th.tid, e.t.layout, true); err != nil {
			return 0, err
		}
		if b, err = c.set.AppendRegister(buf[:0], n); err != nil {
			return 0, err
		}
	}
	if len(b) > 8 {
		return 0, fmt.Errorf("register %d has %d bytes, more than a value", n, len(b))
	}
	var v [8]byte
	copy(v[:], b)
	return binary.LittleEndian.Uint64(v[:]), nil
}

// ReadMemory reads the program's own bytes, not the int3 of breakpoints.
func (e condEnv) ReadMemory(addr uint64, dst []byte) (int, error) {
	p := e.th.proc
	n, err := p.mem.read(addr, dst)
	p.bps.Shadow(addr, dst[:n])
	return n, err
}

// hit decides th's hit of a breakpoint with actions a (nil: none),
// running its commands, and reports whether th stops for it.
// Must run on the loop.
func (t *Tracer) hit(th *thread, a *breakpoint.Actions) bool {
	env := condEnv{t, th}
	out := t.cmdOut
	if out == nil {
		out = io.Discard
	}
	stop, err := a.Hit(agentexpr.Env{Mem: env, Regs: env, Out: out})
	if err != nil {
		t.log.Debug("breakpoint conditions and commands", "tid", th.tid, "err", err)
	}
	return stop
}

// passBreakpoint moves th, which hit a software breakpoint whose
// conditions are false (or whose commands ran) while it ran, past it,
// and lets it run on. The instruction runs out of line (stepAside), no
// other thread stopping or seeing the breakpoint lifted. Where it cannot,
// the other threads are stopped first (pause), so that none runs past the
// breakpoint while it is out: in all-stop mode, if one of them has an
// event by then, or the client asked for an interrupt, that is reported
// instead, and th steps over the breakpoint when it is next resumed; in
// non-stop mode such events are reported and the others run on.
// Must run on the loop.
func (t *Tracer) passBreakpoint(th *thread) {
	stepping := th.stepping
	// A thread that the client steps, or that range steps, must stop
	// after the instruction; any other runs on, through a pad or a copy.
	free := !stepping && th.rangeEnd <= th.rangeStart
	sig, info := t.holdSignal(th)
	if !t.interrupting && free && sig == 0 {
		if ev, ok, done := t.padBreakpoint(th); done {
			if ok {
				t.runEvent(ev)
			}
			return
		}
	}
	if !t.interrupting {
		// (An interrupt that reached th would be taken for the step's.)
		ev, ok, err := t.stepAside(th, free && sig == 0)
		if !errors.Is(err, errNotAside) {
			if err != nil {
				t.log.Warn("step over breakpoint out of line", "tid", th.tid, "err", err)
			}
			th.stepping = stepping
			t.releaseSignal(th, sig, info)
			if t.stepReported(th, ev, ok, stepping) {
				t.runEvent(ev)
			} else if t.threads[th.tid] == th && th.state == stopped {
				t.cont(th)
			}
			return
		}
		t.log.Debug("step over breakpoint in place", "tid", th.tid, "err", err)
	}
	queued := len(t.queue)
	held := t.pause()
	delete(held, th)
	if !t.nonStop {
		if len(t.queue) > queued {
			ev := t.queue[queued]
			t.queue = append(t.queue[:queued], t.queue[queued+1:]...)
			t.releaseSignal(th, sig, info)
			t.report(ev)
			return
		}
		if t.interrupting {
			t.releaseSignal(th, sig, info)
			t.report(inferior.Event{Kind: inferior.EventSignal, PID: th.proc.pid, TID: th.tid, Signal: int(unix.SIGINT)})
			return
		}
	}
	ev, ok, err := t.stepOver(th, th.deliver)
	if err != nil {
		t.log.Warn("step over breakpoint", "tid", th.tid, "err", err)
	}
	th.stepping = stepping
	t.releaseSignal(th, sig, info)
	if t.stepReported(th, ev, ok, stepping) {
		t.report(ev)
		if !t.nonStop {
			return
		}
	}
	t.unpause(held)
}

// holdSignal takes from th, about to pass a breakpoint, the signal that
// passes silently that it was to take (with its siginfo), until the
// instruction has run (releaseSignal): delivered on the breakpoint, its
// handler would return onto the int3, and a dprintf there would print
// again. A signal the CPU raised, which the instruction raises again, is
// not held. Must run on the loop.
func (t *Tracer) holdSignal(th *thread) (unix.Signal, *[siginfoSize]byte) {
	sig := th.deliver
	if sig == 0 || sig == unix.SIGTRAP || faultSignal(sig) {
		return 0, nil
	}
	if th.deliverInfo == nil && th.sigStop {
		t.keepSiginfo(th)
	}
	info := th.deliverInfo
	th.deliver, th.deliverInfo = 0, nil
	return sig, info
}

// releaseSignal gives th back the signal holdSignal took, to take at its
// next resume; one that another signal held meanwhile is sent to it
// again. Must run on the loop.
func (t *Tracer) releaseSignal(th *thread, sig unix.Signal, info *[siginfoSize]byte) {
	switch {
	case sig == 0 || t.threads[th.tid] != th:
	case th.deliver == 0:
		th.deliver, th.deliverInfo = sig, info
	default:
		if err := unix.Tgkill(th.proc.pid, th.tid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			t.log.Warn("send signal again", "tid", th.tid, "signal", sig, "err", err)
		}
	}
}

// stepReported reports whether the event (ev, ok) that th's step over a
// breakpoint it passes ended with is news: not the end of the step
// itself, unless th was range stepping and left its range.
// Must run on the loop.
func (t *Tracer) stepReported(th *thread, ev inferior.Event, ok, stepping bool) bool {
	if ok && ev.Kind == inferior.EventStep && ev.TID == th.tid && (!stepping || t.stillInRange(th)) {
		return false // the instruction ran; th goes on as it was
	}
	return ok
}
