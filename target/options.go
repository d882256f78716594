package target

import (
	"slices"

	"procgdb/inferior"
)

// The client's choices that change what the tracer reports: the signals
// that pass silently, the optional events, and the events of single
// threads.

// SetPassSignals sets the host signals delivered to the program without
// stopping it.
func (c *Ctl) SetPassSignals(sigs []int) {
	t := c.t
	clear(t.pass[:])
	for _, s := range sigs {
		if s > 0 && s < len(t.pass) {
			t.pass[s] = true
		}
	}
}

// SetEventOptions sets which optional events are reported from the next
// resume on.
func (c *Ctl) SetEventOptions(o inferior.EventOptions) {
	o.Syscalls = slices.Clone(o.Syscalls)
	c.t.opts = o
}

// SetThreadOptions sets which events of thread tid of process pid are
// reported from the next resume on, whatever SetEventOptions says.
func (c *Ctl) SetThreadOptions(pid, tid int, o inferior.ThreadOptions) error {
	th, err := c.t.lookupThread(pid, tid)
	if err == nil {
		th.options = o
	}
	return err
}
