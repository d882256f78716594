// Package breakpoint keeps the software breakpoints of one address space:
// which addresses hold an int3 and which original bytes it replaced
// (Table); the hardware breakpoints and watchpoints of a process, with
// the debug register values they take (HWTable, hw.go); and, as pure
// functions over code bytes, the x86-64 analysis stepping needs: where a
// range step must stop so the thread can run free inside the range
// (RangeExits, rangestep.go), and how to single-step one instruction out
// of line while its breakpoint stays in place (Displace, displaced.go).
//
// The table never touches a process itself: it is given a Memory to read
// and write, so it can be tested without one, and the target decides how
// memory is reached (process_vm_writev, /proc/PID/mem).
package breakpoint

import (
	"errors"
	"fmt"
	"maps"
	"sort"

	"procgdb/agentexpr"
)

// Int3 is the x86 breakpoint instruction.
const Int3 = 0xCC

// Memory is what the table needs from an address space.
type Memory interface {
	// ReadAt reads len(p) bytes at addr; it fails unless all were read.
	ReadAt(p []byte, addr uint64) error
	// WriteAt writes p at addr, read-only pages included.
	WriteAt(p []byte, addr uint64) error
}

// Table is the set of software breakpoints inserted in one address space.
// Its zero value is not usable; use New. A Table is not safe for
// concurrent use: the target serialises access to it.
type Table struct {
	mem Memory
	// orig maps each inserted breakpoint's address to the byte the int3
	// replaced.
	orig map[uint64]byte
	// lifted is set while the int3 bytes are out of memory (during a
	// vfork, when parent and child share it) although the breakpoints
	// stay logically inserted.
	lifted bool
	// conds are the conditions of conditional breakpoints (cond.go).
	conds conditions
}

// New returns an empty table over mem.
func New(mem Memory) *Table {
	return &Table{mem: mem, orig: make(map[uint64]byte)}
}

// Insert puts an int3 at addr. Inserting where one is already is a no-op,
// so a client that inserts twice does not lose the original byte.
func (t *Table) Insert(addr uint64) error {
	if _, ok := t.orig[addr]; ok {
		return nil
	}
	var b [1]byte
	if err := t.mem.ReadAt(b[:], addr); err != nil {
		return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
	}
	if !t.lifted {
		if err := t.mem.WriteAt([]byte{Int3}, addr); err != nil {
			return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
		}
	}
	t.orig[addr] = b[0]
	return nil
}

// Remove restores the original byte at addr. Removing a breakpoint that
// is not there is an error, as gdb expects for z0 of an unknown address.
func (t *Table) Remove(addr uint64) error {
	b, ok := t.orig[addr]
	if !ok {
		return fmt.Errorf("remove breakpoint at %#x: %w", addr, ErrNotInserted)
	}
	if !t.lifted {
		if err := t.mem.WriteAt([]byte{b}, addr); err != nil {
			return fmt.Errorf("remove breakpoint at %#x: %w", addr, err)
		}
	}
	delete(t.orig, addr)
	delete(t.conds, addr)
	return nil
}

// SetConditions makes the breakpoint at addr conditional: a hit counts
// only when Holds says so. No conditions make it unconditional again.
func (t *Table) SetConditions(addr uint64, conds []*agentexpr.Program) error {
	if !t.Has(addr) {
		return fmt.Errorf("conditions at %#x: %w", addr, ErrNotInserted)
	}
	t.conds.set(addr, conds)
	return nil
}

// Conditions returns the conditions of the breakpoint at addr, none for
// an unconditional one.
func (t *Table) Conditions(addr uint64) []*agentexpr.Program { return t.conds[addr] }

// ErrNotInserted reports a breakpoint address with no breakpoint.
var ErrNotInserted = errors.New("no breakpoint inserted")

// Has reports whether a breakpoint is inserted at addr.
func (t *Table) Has(addr uint64) bool {
	_, ok := t.orig[addr]
	return ok
}

// Len returns the number of inserted breakpoints.
func (t *Table) Len() int { return len(t.orig) }

// Addrs returns the inserted breakpoints' addresses in increasing order.
func (t *Table) Addrs() []uint64 {
	a := make([]uint64, 0, len(t.orig))
	for addr := range t.orig {
		a = append(a, addr)
	}
	sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	return a
}

// Shadow replaces the int3 bytes in buf, which holds memory read at addr,
// with the original bytes, so that a reader sees the program's code.
func (t *Table) Shadow(addr uint64, buf []byte) {
	if len(t.orig) == 0 || t.lifted {
		return
	}
	end := addr + uint64(len(buf))
	if end < addr { // wrapped: clip to the top of the address space
		end = ^uint64(0)
	}
	for a, b := range t.orig {
		if a >= addr && a < end {
			buf[a-addr] = b
		}
	}
}

// PrepareWrite adjusts a write of buf at addr so that inserted
// breakpoints stay in place: each original byte under a breakpoint takes
// the written value, and buf gets the int3 back. It returns a function
// that undoes the change to the table's saved bytes, for a write that
// then fails.
func (t *Table) PrepareWrite(addr uint64, buf []byte) (undo func()) {
	if len(t.orig) == 0 || t.lifted {
		return func() {}
	}
	end := addr + uint64(len(buf))
	if end < addr {
		end = ^uint64(0)
	}
	saved := make(map[uint64]byte)
	for a, b := range t.orig {
		if a >= addr && a < end {
			saved[a] = b
			t.orig[a] = buf[a-addr]
			buf[a-addr] = Int3
		}
	}
	return func() {
		for a, b := range saved {
			t.orig[a] = b
		}
	}
}

// Lift takes every int3 out of memory while keeping the breakpoints in
// the table, for the time another process shares the address space.
func (t *Table) Lift() error {
	if t.lifted {
		return nil
	}
	for a, b := range t.orig {
		if err := t.mem.WriteAt([]byte{b}, a); err != nil {
			return fmt.Errorf("lift breakpoint at %#x: %w", a, err)
		}
	}
	t.lifted = true
	return nil
}

// Restore puts back the int3 bytes Lift took out.
func (t *Table) Restore() error {
	if !t.lifted {
		return nil
	}
	t.lifted = false
	for a := range t.orig {
		if err := t.mem.WriteAt([]byte{Int3}, a); err != nil {
			return fmt.Errorf("restore breakpoint at %#x: %w", a, err)
		}
	}
	return nil
}

// Clear restores every original byte and empties the table. It tries
// every breakpoint and returns the first error.
func (t *Table) Clear() error {
	var first error
	for _, a := range t.Addrs() {
		if err := t.Remove(a); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// StripFrom writes the original bytes into another address space that is
// a copy of this one (a forked child), so the copy runs without traps.
func (t *Table) StripFrom(m Memory) error {
	if t.lifted {
		return nil
	}
	for a, b := range t.orig {
		if err := m.WriteAt([]byte{b}, a); err != nil {
			return fmt.Errorf("strip breakpoint at %#x: %w", a, err)
		}
	}
	return nil
}

// Clone returns a table for a copy of this address space (a forked
// child) reached through mem: the same breakpoints, whose int3 bytes the
// copy already holds. (A vfork child shares the address space itself, and
// so shares the table.)
func (t *Table) Clone(mem Memory) *Table {
	c := &Table{mem: mem, orig: maps.Clone(t.orig), lifted: t.lifted, conds: maps.Clone(t.conds)}
	return c
}
