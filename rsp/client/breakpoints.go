package client

import (
	"errors"
	"fmt"
)

// SWBreakpoint is the Kind of a software breakpoint (Z0): an instruction
// the stub writes into the program. The hardware kinds are HWBreakpoint,
// HWWrite, HWRead and HWAccess.
const SWBreakpoint HWKind = 0

// x86BreakpointKind is Z0's and Z1's kind on x86-64: the length of the
// breakpoint instruction, int3.
const x86BreakpointKind = 1

// Breakpoint is a breakpoint or watchpoint set in a process by
// SetBreakpoint, SetHWBreakpoint or SetWatchpoint. Remove takes it out.
type Breakpoint struct {
	Kind HWKind // SWBreakpoint, HWBreakpoint, HWWrite, HWRead or HWAccess
	Addr uint64
	Len  int // bytes watched; the breakpoint's kind for breakpoints
	PID  int // its process; AnyThread when the stub does not name processes
	c    *Client
}

// pointKey identifies a point the Client set, so that Detach can remove
// those of a process.
type pointKey struct {
	pid  int
	kind HWKind
	addr uint64
	len  int
}

func (b *Breakpoint) key() pointKey { return pointKey{b.PID, b.Kind, b.Addr, b.Len} }

// in reports whether the point may be in process pid: without the
// multiprocess feature neither side knows processes for sure.
func (k pointKey) in(pid int) bool {
	return k.pid == pid || k.pid <= 0 || pid <= 0
}

// SetBreakpoint sets a software breakpoint at addr in the selected
// thread's process (Z0).
func (c *Client) SetBreakpoint(addr uint64) (*Breakpoint, error) {
	return c.setPoint(SWBreakpoint, addr, x86BreakpointKind)
}

// SetHWBreakpoint sets a hardware breakpoint at addr in the selected
// thread's process (Z1).
func (c *Client) SetHWBreakpoint(addr uint64) (*Breakpoint, error) {
	return c.setPoint(HWBreakpoint, addr, x86BreakpointKind)
}

// SetWatchpoint sets a watchpoint of kind (HWWrite, HWRead or HWAccess)
// on the n bytes at addr in the selected thread's process (Z2, Z3, Z4).
// A stop it causes is a StopWatchpoint with the watchpoint's address (HW.Addr).
func (c *Client) SetWatchpoint(kind HWKind, addr uint64, n int) (*Breakpoint, error) {
	if kind < HWWrite || kind > HWAccess {
		return nil, fmt.Errorf("client: watchpoint kind %d: want HWWrite, HWRead or HWAccess", kind)
	}
	return c.setPoint(kind, addr, n)
}

func (c *Client) setPoint(kind HWKind, addr uint64, n int) (*Breakpoint, error) {
	b := &Breakpoint{Kind: kind, Addr: addr, Len: n, c: c}
	if c.selKnown {
		b.PID = c.sel.PID
	}
	if err := c.requestOK(b.packet('Z')); err != nil {
		return nil, fmt.Errorf("client: set %s: %w", b, err)
	}
	c.points[b.key()] = true
	return b, nil
}

// packet returns the Z (op 'Z') or z packet for b.
func (b *Breakpoint) packet(op byte) string {
	return fmt.Sprintf("%c%d,%x,%x", op, b.Kind, b.Addr, b.Len)
}

// String describes b: "breakpoint at 0x401136".
func (b *Breakpoint) String() string {
	what := map[HWKind]string{
		SWBreakpoint: "breakpoint",
		HWBreakpoint: "hardware breakpoint",
		HWWrite:      "write watchpoint",
		HWRead:       "read watchpoint",
		HWAccess:     "access watchpoint",
	}[b.Kind]
	if b.Kind >= HWWrite {
		return fmt.Sprintf("%s on %d bytes at %#x", what, b.Len, b.Addr)
	}
	return fmt.Sprintf("%s at %#x", what, b.Addr)
}

// Remove takes the breakpoint or watchpoint out of its process (z).
func (b *Breakpoint) Remove() error {
	c := b.c
	if !c.points[b.key()] {
		return fmt.Errorf("client: remove %s: not set", b)
	}
	if err := c.selectProcess(b.PID); err != nil {
		return err
	}
	if err := c.requestOK(b.packet('z')); err != nil {
		return fmt.Errorf("client: remove %s: %w", b, err)
	}
	delete(c.points, b.key())
	return nil
}

// selectProcess selects a thread of process pid unless the selected
// thread is one, for requests that apply to a process.
func (c *Client) selectProcess(pid int) error {
	if pid <= 0 || !c.multiprocess || c.selKnown && c.sel.PID == pid {
		return nil
	}
	return c.Select(ThreadID{PID: pid, TID: AnyThread})
}

// removePoints removes the points the Client set in process pid, before
// it leaves the process.
func (c *Client) removePoints(pid int) error {
	var errs []error
	for k := range c.points {
		if k.in(pid) {
			b := &Breakpoint{Kind: k.kind, Addr: k.addr, Len: k.len, PID: k.pid, c: c}
			errs = append(errs, b.Remove())
		}
	}
	return errors.Join(errs...)
}
