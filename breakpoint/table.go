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

// Table is the set of software breakpoints inserted in one address space:
// the client's, and internal ones procgdb plants for itself (the exits of
// a range step), which may share an address with the client's. Its zero
// value is not usable; use New. A Table is not safe for concurrent use:
// the target serialises access to it.
type Table struct {
	mem Memory
	// orig maps the address of each int3 in memory, the client's or
	// internal, to the byte it replaced.
	orig map[uint64]byte
	// client holds the client's breakpoints; internal counts the users
	// of each internal one.
	client   map[uint64]bool
	internal map[uint64]int
	// lifted is set while the int3 bytes are out of memory (during a
	// vfork, when parent and child share it) although the breakpoints
	// stay logically inserted.
	lifted bool
	// acts are the conditions and commands of the client's breakpoints
	// (cond.go).
	acts actions
	// patched holds the client's breakpoints whose int3 has given way to
	// a longer instruction (Patch), with the original bytes it covers
	// after the first (which orig holds).
	patched map[uint64][]byte
}

// New returns an empty table over mem.
func New(mem Memory) *Table {
	return &Table{mem: mem, orig: make(map[uint64]byte), client: make(map[uint64]bool), internal: make(map[uint64]int)}
}

// Insert puts a client's breakpoint at addr. Inserting where one is
// already is a no-op, so a client that inserts twice does not lose the
// original byte.
func (t *Table) Insert(addr uint64) error {
	if t.client[addr] {
		return nil
	}
	if err := t.plant(addr); err != nil {
		return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
	}
	t.client[addr] = true
	return nil
}

// Remove removes the client's breakpoint at addr, with its conditions
// and commands; the original byte comes back unless an internal
// breakpoint stays there. Removing a breakpoint that is not there is an
// error, as gdb expects for z0 of an unknown address.
func (t *Table) Remove(addr uint64) error {
	if !t.client[addr] {
		return fmt.Errorf("remove breakpoint at %#x: %w", addr, ErrNotInserted)
	}
	if err := t.unpatch(addr); err != nil {
		return fmt.Errorf("remove breakpoint at %#x: %w", addr, err)
	}
	if t.internal[addr] == 0 {
		if err := t.unplant(addr); err != nil {
			return fmt.Errorf("remove breakpoint at %#x: %w", addr, err)
		}
	}
	delete(t.client, addr)
	delete(t.acts, addr)
	return nil
}

// InsertInternal puts an internal breakpoint at addr, for one more user.
func (t *Table) InsertInternal(addr uint64) error {
	if t.internal[addr] == 0 {
		if err := t.plant(addr); err != nil {
			return fmt.Errorf("insert internal breakpoint at %#x: %w", addr, err)
		}
	}
	t.internal[addr]++
	return nil
}

// RemoveInternal removes one user's internal breakpoint at addr; the
// original byte comes back with the last, unless the client has a
// breakpoint there.
func (t *Table) RemoveInternal(addr uint64) error {
	switch t.internal[addr] {
	case 0:
		return fmt.Errorf("remove internal breakpoint at %#x: %w", addr, ErrNotInserted)
	case 1:
		if !t.client[addr] {
			if err := t.unplant(addr); err != nil {
				return fmt.Errorf("remove internal breakpoint at %#x: %w", addr, err)
			}
		}
		delete(t.internal, addr)
	default:
		t.internal[addr]--
	}
	return nil
}

// plant writes an int3 at addr, saving the byte it replaces, unless one
// is there already, where it must trap (a patch there or over addr goes).
func (t *Table) plant(addr uint64) error {
	if err := t.unpatchOver(addr, addr+1); err != nil {
		return err
	}
	if _, ok := t.orig[addr]; ok {
		return nil
	}
	var b [1]byte
	if err := t.mem.ReadAt(b[:], addr); err != nil {
		return err
	}
	if !t.lifted {
		if err := t.mem.WriteAt([]byte{Int3}, addr); err != nil {
			return err
		}
	}
	t.orig[addr] = b[0]
	return nil
}

// unplant writes back the byte the int3 at addr replaced.
func (t *Table) unplant(addr uint64) error {
	if !t.lifted {
		if err := t.mem.WriteAt([]byte{t.orig[addr]}, addr); err != nil {
			return err
		}
	}
	delete(t.orig, addr)
	return nil
}

// Uncover writes the original byte back at addr, where an int3 of the
// table stays logically inserted, so that a thread can execute the
// instruction in place while no other runs; cover puts the int3 back, if
// the table still has one there.
func (t *Table) Uncover(addr uint64) (cover func() error, err error) {
	b, ok := t.orig[addr]
	if !ok {
		return nil, fmt.Errorf("uncover breakpoint at %#x: %w", addr, ErrNotInserted)
	}
	if err := t.unpatch(addr); err != nil {
		return nil, fmt.Errorf("uncover breakpoint at %#x: %w", addr, err)
	}
	if t.lifted {
		return func() error { return nil }, nil
	}
	if err := t.mem.WriteAt([]byte{b}, addr); err != nil {
		return nil, fmt.Errorf("uncover breakpoint at %#x: %w", addr, err)
	}
	return func() error {
		if _, ok := t.orig[addr]; !ok || t.lifted {
			return nil
		}
		if err := t.mem.WriteAt([]byte{Int3}, addr); err != nil {
			return fmt.Errorf("cover breakpoint at %#x: %w", addr, err)
		}
		return nil
	}, nil
}

// SetConditions makes the client's breakpoint at addr conditional: a hit
// counts only when Holds says so. No conditions make it unconditional
// again.
func (t *Table) SetConditions(addr uint64, conds []*agentexpr.Program) error {
	if !t.Has(addr) {
		return fmt.Errorf("conditions at %#x: %w", addr, ErrNotInserted)
	}
	if err := t.unpatch(addr); err != nil {
		return fmt.Errorf("conditions at %#x: %w", addr, err)
	}
	t.acts.setConditions(addr, conds)
	return nil
}

// SetCommands gives the client's breakpoint at addr commands, which run
// at each hit that counts, and persist past the client's disconnection
// with persist. No commands take them away.
func (t *Table) SetCommands(addr uint64, cmds []*agentexpr.Program, persist bool) error {
	if !t.Has(addr) {
		return fmt.Errorf("commands at %#x: %w", addr, ErrNotInserted)
	}
	if err := t.unpatch(addr); err != nil {
		return fmt.Errorf("commands at %#x: %w", addr, err)
	}
	t.acts.setCommands(addr, cmds, persist)
	return nil
}

// Actions returns the conditions and commands of the client's breakpoint
// at addr; nil when it has none. The value must not be changed.
func (t *Table) Actions(addr uint64) *Actions { return t.acts[addr] }

// ErrNotInserted reports a breakpoint address with no breakpoint.
var ErrNotInserted = errors.New("no breakpoint inserted")

// Has reports whether the client has a breakpoint at addr.
func (t *Table) Has(addr uint64) bool { return t.client[addr] }

// Internal reports whether an internal breakpoint is at addr.
func (t *Table) Internal(addr uint64) bool { return t.internal[addr] > 0 }

// Planted reports whether an int3 of the table, the client's or
// internal, is at addr.
func (t *Table) Planted(addr uint64) bool {
	_, ok := t.orig[addr]
	return ok
}

// Len returns the number of int3 bytes the table put in memory.
func (t *Table) Len() int { return len(t.orig) }

// Addrs returns the client's breakpoints' addresses in increasing order.
func (t *Table) Addrs() []uint64 {
	a := make([]uint64, 0, len(t.client))
	for addr := range t.client {
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
	for a, rest := range t.patched {
		for i, b := range rest {
			if p := a + 1 + uint64(i); p >= addr && p < end {
				buf[p-addr] = b
			}
		}
	}
}

// PrepareWrite adjusts a write of buf at addr so that inserted
// breakpoints stay in place: each original byte under a breakpoint takes
// the written value, and buf gets the int3 back (a patch the write
// overlaps goes first). It returns a function that undoes the change to
// the table's saved bytes, for a write that then fails.
func (t *Table) PrepareWrite(addr uint64, buf []byte) (undo func(), err error) {
	if len(t.orig) == 0 || t.lifted {
		return func() {}, nil
	}
	end := addr + uint64(len(buf))
	if end < addr {
		end = ^uint64(0)
	}
	if err := t.unpatchOver(addr, end); err != nil {
		return nil, err
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
	}, nil
}

// Lift takes every int3 out of memory while keeping the breakpoints in
// the table, for the time another process shares the address space.
func (t *Table) Lift() error {
	if t.lifted {
		return nil
	}
	if err := t.unpatchOver(0, ^uint64(0)); err != nil {
		return err
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

// Clear restores every original byte and empties the table, internal
// breakpoints included. It tries every breakpoint and returns the first
// error.
func (t *Table) Clear() error {
	first := t.unpatchOver(0, ^uint64(0))
	for a := range t.orig {
		if err := t.unplant(a); err != nil && first == nil {
			first = fmt.Errorf("remove breakpoint at %#x: %w", a, err)
		}
	}
	clear(t.client)
	clear(t.internal)
	t.acts = nil
	return first
}

// StripFrom writes the original bytes into another address space that is
// a copy of this one (a forked child), so the copy runs without traps.
func (t *Table) StripFrom(m Memory) error {
	if t.lifted {
		return nil
	}
	for a, b := range t.orig {
		if err := m.WriteAt(append([]byte{b}, t.patched[a]...), a); err != nil {
			return fmt.Errorf("strip breakpoint at %#x: %w", a, err)
		}
	}
	return nil
}

// Clone returns a table for a copy of this address space (a forked
// child) reached through mem: the client's breakpoints, whose int3 bytes
// the copy already holds, with their conditions and commands. Internal
// breakpoints are this address space's threads' business: their bytes
// are taken out of the copy. (A vfork child shares the address space
// itself, and so shares the table.)
func (t *Table) Clone(mem Memory) (*Table, error) {
	c := New(mem)
	c.lifted, c.acts, c.patched = t.lifted, maps.Clone(t.acts), maps.Clone(t.patched)
	var first error
	for a, b := range t.orig {
		if t.client[a] {
			c.orig[a], c.client[a] = b, true
			continue
		}
		if t.lifted {
			continue
		}
		if err := mem.WriteAt([]byte{b}, a); err != nil && first == nil {
			first = fmt.Errorf("strip internal breakpoint at %#x: %w", a, err)
		}
	}
	return c, first
}

// Patch replaces the int3 of the client's breakpoint at addr with code,
// an instruction (a jump) whose first byte takes the int3's place and
// whose others cover the rest of the original instruction there (and
// over a shorter one, the start of the next, written unchanged). The
// int3 stays until the rest is written, so that a thread running into
// addr meanwhile traps as before; Shadow keeps showing the original
// bytes. Any change at addr or over the patch (Remove, Uncover, new
// conditions or commands, a breakpoint or a write inside it, Lift) puts
// the int3 back first. Patch refuses an internal breakpoint's address,
// one already patched, and a patch over another breakpoint.
func (t *Table) Patch(addr uint64, code []byte) error {
	switch {
	case !t.client[addr]:
		return fmt.Errorf("patch breakpoint at %#x: %w", addr, ErrNotInserted)
	case t.internal[addr] > 0 || t.lifted || t.patched[addr] != nil || len(code) < 2:
		return fmt.Errorf("patch breakpoint at %#x: not a plain breakpoint", addr)
	}
	end := addr + uint64(len(code))
	for a := range t.orig {
		if a > addr && a < end {
			return fmt.Errorf("patch breakpoint at %#x: breakpoint at %#x inside", addr, a)
		}
	}
	for a, rest := range t.patched {
		if patchOverlaps(a, rest, addr, end) {
			return fmt.Errorf("patch breakpoint at %#x: patch at %#x overlaps", addr, a)
		}
	}
	rest := make([]byte, len(code)-1)
	if err := t.mem.ReadAt(rest, addr+1); err != nil {
		return fmt.Errorf("patch breakpoint at %#x: %w", addr, err)
	}
	if err := t.mem.WriteAt(code[1:], addr+1); err != nil {
		return fmt.Errorf("patch breakpoint at %#x: %w", addr, err)
	}
	if err := t.mem.WriteAt(code[:1], addr); err != nil {
		// The int3 still guards the instruction: put its bytes back.
		return errors.Join(fmt.Errorf("patch breakpoint at %#x: %w", addr, err), t.mem.WriteAt(rest, addr+1))
	}
	if t.patched == nil {
		t.patched = make(map[uint64][]byte)
	}
	t.patched[addr] = rest
	return nil
}

// Patched reports whether the breakpoint at addr is patched (Patch).
func (t *Table) Patched(addr uint64) bool { return t.patched[addr] != nil }

// unpatch puts the int3 back at addr, if patched: first the int3, so that
// a thread running there traps from then on, then the original bytes
// after it.
func (t *Table) unpatch(addr uint64) error {
	rest := t.patched[addr]
	if rest == nil {
		return nil
	}
	if err := t.mem.WriteAt([]byte{Int3}, addr); err != nil {
		return fmt.Errorf("unpatch breakpoint at %#x: %w", addr, err)
	}
	if err := t.mem.WriteAt(rest, addr+1); err != nil {
		return fmt.Errorf("unpatch breakpoint at %#x: %w", addr, err)
	}
	delete(t.patched, addr)
	return nil
}

// unpatchOver unpatches every patch that overlaps [from, to).
func (t *Table) unpatchOver(from, to uint64) error {
	var errs []error
	for a, rest := range t.patched {
		if patchOverlaps(a, rest, from, to) {
			errs = append(errs, t.unpatch(a))
		}
	}
	return errors.Join(errs...)
}

// patchOverlaps reports whether the patch at a, whose bytes after the
// first are rest, overlaps [from, to).
func patchOverlaps(a uint64, rest []byte, from, to uint64) bool {
	return a < to && from < a+1+uint64(len(rest))
}
