package target

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
)

// Hardware breakpoints and watchpoints. A process's breakpoint.HWTable
// says what its debug registers hold; each thread has its own registers,
// written from the table just before the thread runs whenever the table
// changed since they were last written (thread.hwGen), which also covers
// threads born since.

// Debug register numbers.
const (
	dr6 = 6 // status: which condition was met
	dr7 = 7 // control: which registers are on, and how
)

// trapHWBreakpoint is si_code TRAP_HWBKPT: a debug register's condition
// was met.
const trapHWBreakpoint = 4

// eflagsRF is the resume flag: the instruction at the PC runs once
// without its instruction breakpoint trapping again.
const eflagsRF = 1 << 16

// writeDebugRegs brings th's debug registers up to its process's table,
// and sets the resume flag when th sits on one of its instruction
// breakpoints. Must run on the loop.
func (t *Tracer) writeDebugRegs(th *thread) error {
	hw := th.proc.hw
	if t.noDebugRegs {
		return nil
	}
	if th.hwGen != hw.Gen() {
		if err := pokeDebugRegs(th.tid, hw); err != nil {
			return err
		}
		th.hwGen = hw.Gen()
	}
	if !hw.HasExec() {
		return nil // only instruction breakpoints need the resume flag
	}
	pc, err := t.pc(th)
	if err != nil {
		return err
	}
	if hw.Has(inferior.HWPoint{Kind: inferior.HWExec, Addr: pc, Len: 1}) {
		th.regs.set.GPR.Eflags |= eflagsRF
		th.regs.gprDirty = true
	}
	return nil
}

// pokeDebugRegs writes the debug registers of tid from hw.
// Must run on the loop.
func pokeDebugRegs(tid int, hw *breakpoint.HWTable) error {
	addrs, ctl := hw.Registers()
	// Off first: the kernel checks each enabled register's address as
	// DR7 is written.
	if err := ptracePokeDebugReg(tid, dr7, 0); err != nil {
		return fmt.Errorf("debug registers of %d: %w", tid, err)
	}
	for i := range hw.Used() {
		if err := ptracePokeDebugReg(tid, i, addrs[i]); err != nil {
			return fmt.Errorf("debug register %d of %d: %w", i, tid, err)
		}
	}
	if ctl != 0 {
		if err := ptracePokeDebugReg(tid, dr7, ctl); err != nil {
			return fmt.Errorf("debug registers of %d: %w", tid, err)
		}
	}
	return nil
}

// hwTrap says which hardware breakpoint or watchpoint a debug trap of th
// belongs to, and clears the status for the next one.
// Must run on the loop.
func (t *Tracer) hwTrap(th *thread) (inferior.HWPoint, bool) {
	status, err := ptracePeekDebugReg(th.tid, dr6)
	if err != nil {
		t.log.Warn("debug status", "tid", th.tid, "err", err)
		return inferior.HWPoint{}, false
	}
	if err := ptracePokeDebugReg(th.tid, dr6, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		t.log.Warn("debug status", "tid", th.tid, "err", err)
	}
	return th.proc.hw.Hit(status)
}

// hwHit fills ev in when th's debug trap belongs to one of its process's
// hardware breakpoints or watchpoints, or, without debug registers, when
// th's step wrote the bytes of an emulated watchpoint (softwatch.go).
// Must run on the loop.
func (t *Tracer) hwHit(th *thread, ev *inferior.Event) bool {
	hit := t.hwTrap
	if t.noDebugRegs {
		hit = t.softWatchHit
	}
	p, ok := hit(th)
	if !ok {
		return false
	}
	ev.Kind, ev.Signal, ev.HW = inferior.EventWatchpoint, 0, p
	if p.Kind == inferior.HWExec {
		ev.Kind = inferior.EventHWBreakpoint
	}
	return true
}

// clearDebugRegs turns off the debug registers of a thread about to be
// let go, so that it does not trap without a tracer (which kills it).
// Must run on the loop.
func clearDebugRegs(th *thread) error {
	if th.hwGen == 0 {
		return nil
	}
	if err := ptracePokeDebugReg(th.tid, dr7, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("debug registers of %d: %w", th.tid, err)
	}
	return nil
}

// InsertHWPoint adds a hardware breakpoint or watchpoint to process pid;
// its threads get it when they next run.
func (c *Ctl) InsertHWPoint(pid int, p inferior.HWPoint) error {
	return c.t.changeHW(pid, func(hw *breakpoint.HWTable) error {
		if err := c.t.checkHWKind(p); err != nil {
			return err
		}
		return hw.Insert(p)
	})
}

// RemoveHWPoint removes a hardware breakpoint or watchpoint.
func (c *Ctl) RemoveHWPoint(pid int, p inferior.HWPoint) error {
	return c.t.changeHW(pid, func(hw *breakpoint.HWTable) error { return hw.Remove(p) })
}

// changeHW applies op to the table of process pid. Threads get the
// debug registers when they next run: in non-stop mode the running ones
// are stopped for a moment, so that they do. Must run on the loop.
func (t *Tracer) changeHW(pid int, op func(*breakpoint.HWTable) error) error {
	pr, err := t.lookup(pid)
	if err != nil {
		return err
	}
	return t.pausing(func() error { return op(pr.hw) })
}
