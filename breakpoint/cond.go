package breakpoint

import (
	"errors"
	"fmt"

	"procgdb/agentexpr"
)

// Breakpoint conditions and commands evaluated by the stub: when it offers
// ConditionalBreakpoints, gdb compiles a breakpoint's condition into agent
// expression bytecode (package agentexpr) and sends it with the
// breakpoint (Z0 and Z1), so that a hit whose condition is false never
// reaches gdb; when it offers BreakpointCommands, gdb sends the commands
// of a dprintf with `set dprintf-style agent` the same way, and the stub
// prints the text itself. The tables keep each breakpoint's Actions; Hit
// decides a hit.

// Actions are what the stub does by itself when a thread hits a
// breakpoint.
type Actions struct {
	// Conds are the conditions, ORed: the hit counts when one holds.
	Conds []*agentexpr.Program
	// Cmds are the commands, run in order when the hit counts; a
	// breakpoint with commands is not reported (gdb sends commands only
	// for a location where every breakpoint is an agent-style dprintf).
	Cmds []*agentexpr.Program
	// Persist: the commands are to go on running after the client
	// disconnects (the manual's "cmds:persist").
	Persist bool
}

// Hit decides a hit of a breakpoint with actions a (nil: none): whether
// the thread stops and the hit is reported, or goes on. A hit counts when
// Holds says so; a counted hit of a breakpoint with commands runs them,
// for their output, and goes on. When a condition could not be evaluated,
// the hit is reported without running the commands, and the client, which
// evaluates the condition again, decides. The error says what failed: a
// condition, or a command (the commands after it are not run).
func (a *Actions) Hit(env agentexpr.Env) (stop bool, err error) {
	if a == nil {
		return true, nil
	}
	ok, err := Holds(a.Conds, env)
	switch {
	case !ok:
		return false, nil
	case err != nil || len(a.Cmds) == 0:
		return true, err
	}
	for i, c := range a.Cmds {
		if err := c.Exec(env); err != nil {
			return false, fmt.Errorf("command %d: %w", i+1, err)
		}
	}
	return false, nil
}

// Holds reports whether a hit of a breakpoint with conds counts: it has
// none, one of them is true, or one could not be evaluated (a fault, the
// budget spent), which the client, evaluating the condition itself, then
// decides; the error says why.
func Holds(conds []*agentexpr.Program, env agentexpr.Env) (bool, error) {
	var errs []error
	for _, c := range conds {
		v, err := c.Eval(env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v != 0 {
			return true, nil
		}
	}
	return len(conds) == 0 || len(errs) > 0, errors.Join(errs...)
}

// actions holds the Actions of breakpoints, by address; a breakpoint with
// neither conditions nor commands has none. The zero value holds none.
type actions map[uint64]*Actions

// setConditions gives the breakpoint at addr conds; none makes it
// unconditional.
func (m *actions) setConditions(addr uint64, conds []*agentexpr.Program) {
	m.change(addr, func(a *Actions) { a.Conds = conds })
}

// setCommands gives the breakpoint at addr cmds; none take them away.
func (m *actions) setCommands(addr uint64, cmds []*agentexpr.Program, persist bool) {
	m.change(addr, func(a *Actions) { a.Cmds, a.Persist = cmds, persist && len(cmds) > 0 })
}

// change applies fn to a copy of the actions at addr (tables cloned for
// a fork share the old value) and keeps the result unless it is empty.
func (m *actions) change(addr uint64, fn func(*Actions)) {
	var a Actions
	if old := (*m)[addr]; old != nil {
		a = *old
	}
	fn(&a)
	if len(a.Conds) == 0 && len(a.Cmds) == 0 {
		delete(*m, addr)
		return
	}
	if *m == nil {
		*m = actions{}
	}
	(*m)[addr] = &a
}
