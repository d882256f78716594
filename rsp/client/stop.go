package client

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/rsp"
)

// Stop is why the target stopped, as one value. It embeds the stop reply
// as package rsp decodes it: Kind; the thread (PID, TID; Thread returns
// both); Signal, a Linux signal number (StopSignal, StopKilled); ExitCode
// (StopExited, StopThreadExited); the new process of a fork (ChildPID,
// ChildTID); ExecPath; Syscall; the watchpoint (HW); the
// expedited registers by number (Registers; Register looks them up by
// name); Core; and lldb-server's Name, Reason and Description.
//
// A stop after a step of the thread that stopped, without another
// reason, is StopStep; any other stop without a reason is StopSignal.
type Stop struct {
	rsp.StopReply
	desc *Description // names the expedited registers, when read
}

// Thread returns the thread that stopped, or the process that exited
// (TID 0).
func (s Stop) Thread() ThreadID {
	return ThreadID{PID: s.PID, TID: s.TID}
}

// Exited reports whether the stop ends the process: it exited or was
// killed.
func (s Stop) Exited() bool {
	return s.Kind == StopExited || s.Kind == StopKilled
}

// Register returns the value of an expedited register, by name ("rip",
// "rsp", "rbp" from gdbserver and procgdb; more from lldb-server). ok is
// false when the stub did not send it or the target description, which
// names registers, could not be read.
func (s Stop) Register(name string) (v RegisterValue, ok bool) {
	if s.desc == nil {
		return nil, false
	}
	r, ok := s.desc.Register(name)
	if !ok {
		return nil, false
	}
	b, ok := s.Registers[r.Number]
	return RegisterValue(b), ok
}

// String describes the stop in a few words: "breakpoint, thread
// p1f2.1f2", "exited with code 7".
func (s Stop) String() string {
	th := string(rsp.AppendThreadID(nil, s.Thread(), s.PID > 0))
	switch s.Kind {
	case StopExited:
		return fmt.Sprintf("process %d exited with code %d", s.PID, s.ExitCode)
	case StopKilled:
		return fmt.Sprintf("process %d killed by %s", s.PID, unix.SignalName(unix.Signal(s.Signal)))
	case StopThreadExited:
		return fmt.Sprintf("thread %s exited with code %d", th, s.ExitCode)
	case StopNoResumed:
		return "no thread left to resume"
	case StopSignal:
		if s.Signal == 0 {
			return fmt.Sprintf("signal %d (the stub's number), thread %s", s.WireSignal, th)
		}
		return fmt.Sprintf("%v, thread %s", unix.SignalName(unix.Signal(s.Signal)), th)
	}
	what := map[StopKind]string{
		StopBreakpoint:    "breakpoint",
		StopHWBreakpoint:  "hardware breakpoint",
		StopStep:          "step",
		StopWatchpoint:    fmt.Sprintf("watchpoint %#x", s.HW.Addr),
		StopFork:          fmt.Sprintf("fork of process %d", s.ChildPID),
		StopVFork:         fmt.Sprintf("vfork of process %d", s.ChildPID),
		StopVForkDone:     "vfork done",
		StopExec:          "exec " + strconv.Quote(s.ExecPath),
		StopSyscallEntry:  fmt.Sprintf("entry to system call %d", s.Syscall),
		StopSyscallReturn: fmt.Sprintf("return from system call %d", s.Syscall),
		StopThreadCreated: "new thread",
	}[s.Kind]
	return what + ", thread " + th
}

// ResumeKind says how an Action resumes a thread.
type ResumeKind = inferior.ActionKind

// Resume kinds.
const (
	Continue = inferior.Continue // run freely
	Step     = inferior.Step     // execute one instruction, or a range
)

// Action says how to resume threads: Kind (Continue or Step), with a
// Linux Signal to deliver (0 for none), for thread PID.TID. An action for
// AllThreads (PID and TID -1, or both 0) applies to every thread that no
// earlier action names; threads that no action names stay stopped. A Step
// with a range (RangeStart < RangeEnd) steps while the PC stays in
// [RangeStart, RangeEnd).
type Action = inferior.Action

// Resume resumes threads as actions say (with vCont) and returns without
// waiting: Wait waits for the stop. Between the two, only Interrupt and
// Close may be called. A thread that stopped at a breakpoint the Client
// set is first stepped off it, as gdb does (see Wait).
func (c *Client) Resume(actions ...Action) error {
	return c.resume(context.Background(), actions)
}

func (c *Client) resume(ctx context.Context, actions []Action) error {
	if len(actions) == 0 {
		return errors.New("client: resume: no action")
	}
	if err := c.ready("resume"); err != nil {
		return err
	}
	actions = slices.Clone(actions) // stepOver may change them
	s, done, err := c.stepOver(ctx, actions)
	if err != nil {
		return fmt.Errorf("client: resume: step over a breakpoint: %w", err)
	}
	if done {
		c.pending, c.hasPending, c.running = s, true, true
		return nil
	}
	return c.send(actions)
}

// send sends the packet that resumes as actions say, and records that the
// target runs.
func (c *Client) send(actions []Action) error {
	req, err := c.resumePacket(actions)
	if err != nil {
		return fmt.Errorf("client: resume: %w", err)
	}
	if err := c.raw.Send(req); err != nil {
		c.fail(err)
		return fmt.Errorf("client: resume: %w", err)
	}
	c.running, c.resumeReq, c.selKnown = true, req, false
	c.stepping = ThreadID{}
	if len(actions) == 1 && actions[0].Kind == Step {
		c.stepping = ThreadID{PID: actions[0].PID, TID: actions[0].TID}
		if c.stepping == (ThreadID{}) {
			c.stepping = ThreadID{PID: AllThreads, TID: AllThreads}
		}
	}
	return nil
}

// resumePacket returns the packet that resumes as actions say: vCont, or
// for a stub without it one of c, s, C and S (one action, after Hc).
func (c *Client) resumePacket(actions []Action) (string, error) {
	if c.vcont == nil {
		return c.legacyResume(actions)
	}
	var b strings.Builder
	b.WriteString("vCont")
	for _, a := range actions {
		op, err := c.vcontAction(a)
		if err != nil {
			return "", err
		}
		b.WriteString(";" + op)
		if !allThreads(a) {
			b.WriteString(":" + c.threadString(ThreadID{PID: a.PID, TID: a.TID}))
		}
	}
	return b.String(), nil
}

// vcontAction returns the vCont action for a, if the stub offers it.
func (c *Client) vcontAction(a Action) (string, error) {
	var op string
	switch {
	case a.Kind == Step && a.RangeStart < a.RangeEnd:
		if a.Signal != 0 {
			return "", errors.New("a range step cannot deliver a signal")
		}
		op = fmt.Sprintf("r%x,%x", a.RangeStart, a.RangeEnd)
	case a.Kind == Step && a.Signal != 0:
		op = "S" + c.signalHex(a.Signal)
	case a.Kind == Step:
		op = "s"
	case a.Signal != 0:
		op = "C" + c.signalHex(a.Signal)
	default:
		op = "c"
	}
	if !c.vcont[op[0]] {
		return "", fmt.Errorf("vCont action %q: %w", op[0], ErrUnsupported)
	}
	return op, nil
}

// legacyResume returns the c, s, C or S packet for a single action of a
// stub without vCont, selecting its thread with Hc first.
func (c *Client) legacyResume(actions []Action) (string, error) {
	if len(actions) != 1 || actions[0].RangeStart < actions[0].RangeEnd {
		return "", fmt.Errorf("several actions or a range: vCont: %w", ErrUnsupported)
	}
	a := actions[0]
	th := ThreadID{PID: a.PID, TID: a.TID}
	if allThreads(a) {
		th = ThreadID{PID: AllThreads, TID: AllThreads}
	}
	if err := c.requestOK("Hc" + c.threadString(th)); err != nil {
		return "", err
	}
	op := "c"
	if a.Kind == Step {
		op = "s"
	}
	if a.Signal != 0 {
		return strings.ToUpper(op) + c.signalHex(a.Signal), nil
	}
	return op, nil
}

// allThreads reports whether a names no thread in particular.
func allThreads(a Action) bool {
	return (a.PID == AllThreads || a.PID == AnyThread) && (a.TID == AllThreads || a.TID == AnyThread)
}

// signalHex returns Linux signal sig as the stub numbers it, in hex.
func (c *Client) signalHex(sig int) string {
	if !c.native {
		sig = rsp.GDBSignal(sig)
	}
	return fmt.Sprintf("%02x", sig)
}

// threadString formats th as the stub expects it.
func (c *Client) threadString(th ThreadID) string {
	return string(rsp.AppendThreadID(nil, th, c.multiprocess))
}

// Wait waits for the stop that ends the last Resume. Console output the
// stub forwards meanwhile goes to Dialer.Output.
//
// A thread that Resume resumed while it sat at a breakpoint or hardware
// breakpoint the Client set was first stepped with the breakpoint taken
// out; if that step stopped it for another reason (a signal, its exit),
// or was all that was asked, Wait returns that stop.
//
// If ctx is done first, Wait interrupts the target and returns the stop
// that follows (normally a SIGINT stop, or one that happened just before)
// together with ctx.Err(); the target is then stopped and the Client
// usable. A stub that does not stop within 10 seconds of the interrupt
// leaves the Client unusable.
func (c *Client) Wait(ctx context.Context) (Stop, error) {
	if c.err != nil {
		return Stop{}, c.err
	}
	if !c.running {
		return Stop{}, errors.New("client: wait: the target is not running")
	}
	if c.hasPending {
		c.running, c.hasPending = false, false
		return c.pending, nil
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.raw.SetDeadline(time.Now().Add(interruptGrace))
		c.raw.Interrupt()
		close(fired)
	})
	s, err := c.readStop()
	var ctxErr error
	if !stop() {
		<-fired
		c.raw.SetDeadline(time.Time{})
		ctxErr = ctx.Err()
	}
	if err != nil {
		return Stop{}, fmt.Errorf("client: wait: %w", errors.Join(err, ctxErr))
	}
	return s, ctxErr
}

// readStop reads the reply to the resume: console output, then the stop.
func (c *Client) readStop() (Stop, error) {
	for {
		p, err := c.raw.ReceiveBytes()
		if err != nil {
			c.fail(err)
			return Stop{}, err
		}
		if len(p) > 1 && p[0] == 'O' && p[1] != 'K' {
			c.console(p[1:])
			continue
		}
		c.running = false
		return c.stopped(p, c.resumeReq)
	}
}

// console writes the hex-encoded console output of an O packet.
func (c *Client) console(h []byte) {
	if c.output == nil {
		return
	}
	b := make([]byte, hex.DecodedLen(len(h)))
	if n, err := hex.Decode(b, h); err == nil {
		c.output.Write(b[:n])
	}
}

// stopped decodes the stop reply p to request req (a resume, '?', vRun,
// vAttach) and records the stop.
func (c *Client) stopped(p []byte, req string) (Stop, error) {
	if err := rsp.CheckReply(req, p); err != nil {
		return Stop{}, err
	}
	r, err := rsp.ParseStopReply(p, c.native)
	if err != nil {
		return Stop{}, fmt.Errorf("%.40s: %w", req, err)
	}
	s := Stop{StopReply: r}
	if c.stepped(s) {
		s.Kind = StopStep
	}
	c.selKnown = false
	if s.TID > 0 && !s.Exited() && s.Kind != StopThreadExited {
		// The stub makes the thread that stopped its general thread.
		c.sel, c.selKnown = s.Thread(), true
	}
	if len(s.Registers) > 0 {
		s.desc, _ = c.Description() // without it, Register says no
	}
	c.lastStop = s
	return s, nil
}

// stepped reports whether s is the end of the step Resume asked for: a
// SIGTRAP without a reason, in the thread that was stepped.
func (c *Client) stepped(s Stop) bool {
	st := c.stepping
	if st == (ThreadID{}) || s.Kind != StopSignal || s.Signal != int(unix.SIGTRAP) || s.Reason != "" {
		return false
	}
	return st.TID <= 0 || st.TID == s.TID
}

// Interrupt stops the running target; Wait then returns the stop (a
// SIGINT stop, or SIGSTOP from lldb-server). It may be called while
// another goroutine waits in Wait.
func (c *Client) Interrupt() error {
	if err := c.raw.Interrupt(); err != nil {
		return fmt.Errorf("client: interrupt: %w", err)
	}
	return nil
}

// Continue resumes every thread and waits for the next stop (see Wait).
func (c *Client) Continue(ctx context.Context) (Stop, error) {
	return c.resumeWait(ctx, Action{Kind: Continue, PID: AllThreads, TID: AllThreads})
}

// ContinueSignal resumes every thread, delivering Linux signal sig to
// thread th (the signal it stopped with, to pass it on), and waits for
// the next stop.
func (c *Client) ContinueSignal(ctx context.Context, th ThreadID, sig int) (Stop, error) {
	return c.resumeWait(ctx,
		Action{Kind: Continue, PID: th.PID, TID: th.TID, Signal: sig},
		Action{Kind: Continue, PID: AllThreads, TID: AllThreads})
}

// Step executes one instruction in thread th, the other threads staying
// stopped, and returns the stop: StopStep, or whatever happened instead.
func (c *Client) Step(ctx context.Context, th ThreadID) (Stop, error) {
	return c.resumeWait(ctx, Action{Kind: Step, PID: th.PID, TID: th.TID})
}

// RangeStep steps thread th while its PC stays in [start, end), the other
// threads staying stopped, and returns the stop: StopStep once the PC
// leaves the range, or whatever happened first. Where the stub has no
// range stepping (vCont's r), the client steps one instruction at a time.
func (c *Client) RangeStep(ctx context.Context, th ThreadID, start, end uint64) (Stop, error) {
	if c.vcont['r'] {
		return c.resumeWait(ctx, Action{Kind: Step, PID: th.PID, TID: th.TID, RangeStart: start, RangeEnd: end})
	}
	for {
		s, err := c.Step(ctx, th)
		if err != nil || s.Kind != StopStep {
			return s, err
		}
		pc, err := c.PC(s.Thread())
		if err != nil || pc < start || pc >= end {
			return s, err
		}
	}
}

// resumeWait resumes as actions say and waits for the stop.
func (c *Client) resumeWait(ctx context.Context, actions ...Action) (Stop, error) {
	if err := c.resume(ctx, actions); err != nil {
		return Stop{}, err
	}
	return c.Wait(ctx)
}

// LastStop returns the last stop the stub reported: when the Client
// connected ('?'), or from the last Wait, Run or Attach.
func (c *Client) LastStop() Stop {
	return c.lastStop
}

// haltReason asks why the target stopped ('?'), as a new connection
// does. A stub with no process (extended mode) answers that it exited.
func (c *Client) haltReason() error {
	r, err := c.raw.Request("?")
	var re *ReplyError
	if errors.As(err, &re) {
		return nil // no process to speak of
	}
	if err != nil {
		return err
	}
	_, err = c.stopped([]byte(r), "?")
	return err
}
