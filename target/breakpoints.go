package target

// Software breakpoints: the int3 bytes of a process's breakpoint.Table,
// inserted and removed for the client (conditions are in cond.go,
// hardware breakpoints in debugreg.go).

// InsertBreakpoint inserts a software breakpoint at addr in process pid.
func (c *Ctl) InsertBreakpoint(pid int, addr uint64) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	return p.bps.Insert(addr)
}

// RemoveBreakpoint removes the software breakpoint at addr.
func (c *Ctl) RemoveBreakpoint(pid int, addr uint64) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	return p.bps.Remove(addr)
}

// ClearBreakpoints removes every breakpoint and watchpoint from process
// pid, as when the client that inserted them goes away.
func (c *Ctl) ClearBreakpoints(pid int) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	p.hw.Clear()
	return p.bps.Clear()
}
