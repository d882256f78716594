package client

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// Stepping over breakpoints, as gdb does: a thread that stopped at a
// breakpoint would hit it again when resumed, so before resuming it the
// client takes the breakpoints at its PC out, steps the thread alone, and
// puts them back. procgdb steps over breakpoints itself; gdbserver and
// lldb-server leave it to the client.

// stepOver steps the thread of the last stop off the breakpoints the
// Client set at its PC, if actions resume it. It returns the step's stop
// and done when that stop answers actions: the thread stopped for another
// reason, or actions asked for that step alone. Otherwise actions are
// left to send, without the signal the step delivered.
func (c *Client) stepOver(ctx context.Context, actions []Action) (s Stop, done bool, err error) {
	last := c.lastStop
	i := actionFor(actions, last.Thread())
	if i < 0 || !mayBeAtBreakpoint(last) {
		return Stop{}, false, nil
	}
	at, err := c.pointsAtPC(last)
	if err != nil || len(at) == 0 {
		return Stop{}, false, err
	}
	for _, b := range at {
		if err := c.requestOK(b.packet('z')); err != nil {
			return Stop{}, false, err
		}
	}
	a := actions[i]
	th := last.Thread()
	step := Action{Kind: Step, PID: th.PID, TID: th.TID, Signal: a.Signal}
	err = c.send([]Action{step})
	if err == nil {
		s, err = c.Wait(ctx)
	}
	for _, b := range at {
		err = errors.Join(err, c.requestOK(b.packet('Z')))
	}
	if err != nil {
		return s, true, err
	}
	if s.Kind != StopStep || a.Kind == Step && a.RangeStart >= a.RangeEnd {
		return s, true, nil
	}
	if a.Kind == Step {
		pc, err := c.PC(th)
		if err != nil || pc < a.RangeStart || pc >= a.RangeEnd {
			return s, true, err
		}
	}
	actions[i].Signal = 0 // delivered with the step
	return Stop{}, false, nil
}

// actionFor returns the index of the action that applies to thread th:
// the first that names it or names no thread; -1 if none does.
func actionFor(actions []Action, th ThreadID) int {
	for i, a := range actions {
		if allThreads(a) || a.TID == th.TID && (a.PID == th.PID || a.PID <= 0 || th.PID <= 0) {
			return i
		}
	}
	return -1
}

// mayBeAtBreakpoint reports whether s may be a breakpoint hit: a
// breakpoint stop, or a SIGTRAP from a stub that names no reason.
func mayBeAtBreakpoint(s Stop) bool {
	switch s.Kind {
	case StopBreakpoint, StopHWBreakpoint:
		return true
	case StopSignal:
		return s.Signal == int(unix.SIGTRAP) && s.TID > 0
	}
	return false
}

// pointsAtPC returns the breakpoints the Client set at the PC of the
// thread that stopped with s.
func (c *Client) pointsAtPC(s Stop) ([]*Breakpoint, error) {
	var in []pointKey
	for k := range c.points {
		if k.kind <= HWBreakpoint && k.in(s.PID) {
			in = append(in, k)
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	pc, err := c.stopPC(s)
	if err != nil {
		return nil, err
	}
	var at []*Breakpoint
	for _, k := range in {
		if k.addr == pc {
			at = append(at, &Breakpoint{Kind: k.kind, Addr: k.addr, Len: k.len, PID: k.pid, c: c})
		}
	}
	return at, nil
}

// stopPC returns the PC of the thread that stopped with s: expedited, or
// read.
func (c *Client) stopPC(s Stop) (uint64, error) {
	if v, ok := s.Register("pc"); ok {
		return v.Uint64(), nil
	}
	return c.PC(s.Thread())
}
