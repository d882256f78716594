package breakpoint

import (
	"errors"

	"procgdb/agentexpr"
)

// Breakpoint conditions evaluated by the stub: when it offers
// ConditionalBreakpoints, gdb compiles a breakpoint's condition into agent
// expression bytecode (package agentexpr) and sends it with the
// breakpoint (Z0 and Z1), so that a hit whose condition is false never
// reaches gdb. The tables keep each breakpoint's compiled conditions;
// Holds decides a hit.

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

// conditions holds the conditions of breakpoints, by address. The zero
// value holds none.
type conditions map[uint64][]*agentexpr.Program

// set gives the breakpoint at addr conds; none makes it unconditional.
func (c *conditions) set(addr uint64, conds []*agentexpr.Program) {
	if len(conds) == 0 {
		delete(*c, addr)
		return
	}
	if *c == nil {
		*c = conditions{}
	}
	(*c)[addr] = conds
}
