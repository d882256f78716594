package target

import "slices"

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

// RemoveBreakpoint removes the software breakpoint at addr. A thread may
// have hit it just before, its trap not yet reported: running, in
// non-stop mode, or, in all-stop mode, stopped by procgdb with the trap
// still pending (the kernel reports the stop procgdb asked for first).
// The address is remembered (lifted), so that such a trap is taken for
// what it was rather than as a SIGTRAP of the program's own.
func (c *Ctl) RemoveBreakpoint(pid int, addr uint64) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	if err := p.bps.Remove(addr); err != nil {
		return err
	}
	p.lift(addr)
	return nil
}

// lift remembers addr as a breakpoint just removed (liftedHit).
func (p *process) lift(addr uint64) {
	p.lifted = append(p.lifted, addr)
	if len(p.lifted) > maxLifted {
		p.lifted = p.lifted[1:]
	}
}

// maxLifted bounds the breakpoints a process remembers as lifted: a trap
// comes within a few instructions of its breakpoint's removal, long
// before that many others are removed.
const maxLifted = 64

// liftedHit reports whether a thread whose PC is pc, stopped by a trap of
// the kernel's, hit a breakpoint removed since: pc follows a lifted
// breakpoint's address, and the byte there is no int3 of the program's.
// Must run on the loop.
func (t *Tracer) liftedHit(th *thread, pc uint64) bool {
	p := th.proc
	if pc == 0 || !slices.Contains(p.lifted, pc-1) {
		return false
	}
	var b [1]byte
	n, _ := p.mem.read(pc-1, b[:])
	return n == 1 && b[0] != 0xcc
}

// ClearBreakpoints removes every breakpoint and watchpoint from process
// pid, as when the client that inserted them goes away.
func (c *Ctl) ClearBreakpoints(pid int) error {
	p, err := c.t.lookup(pid)
	if err != nil {
		return err
	}
	p.hw.Clear()
	for _, th := range c.t.threads {
		if th.proc.bps == p.bps {
			th.exits = nil // internal breakpoints too
		}
	}
	return p.bps.Clear()
}
