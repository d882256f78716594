package breakpoint

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"procgdb/agentexpr"
	"procgdb/inferior"
)

// Hardware breakpoints and watchpoints use the x86 debug registers: four
// address registers (DR0-DR3), each watching 1, 2, 4 or 8 bytes aligned
// to their size, for instruction fetches, writes, or reads and writes;
// DR7 enables them and says how; DR6 says which one trapped. The
// registers belong to each thread, so the tracer writes the values a
// HWTable computes into every thread of the process before it runs
// (Gen tells which threads are behind).

// HWSlots is the number of debug address registers.
const HWSlots = 4

// ErrNoSlots reports a hardware breakpoint or watchpoint that does not fit
// in the debug registers left free.
var ErrNoSlots = errors.New("no free debug register")

// hwTop bounds the addresses debug registers may hold: the kernel
// refuses any outside user space (below 1<<47 less a page, with the
// usual four-level page tables).
const hwTop = 1<<47 - 4096

// ErrNotSet reports the removal of a hardware breakpoint or watchpoint
// that is not there.
var ErrNotSet = errors.New("no such hardware breakpoint or watchpoint")

// hwSlot is one debug address register in use.
type hwSlot struct {
	addr  uint64
	size  int // 1, 2, 4 or 8, and addr is a multiple of it
	kind  inferior.HWKind
	point int // index in HWTable.points
}

// HWTable holds one process's hardware breakpoints and watchpoints; the
// debug registers they take follow from them (slots). The zero value is
// an empty table.
type HWTable struct {
	points []inferior.HWPoint
	gen    uint64
	// acts are the conditions and commands of hardware breakpoints
	// (cond.go), by address.
	acts actions
}

// slots lists the debug registers the points take, in order.
func (t *HWTable) slots() []hwSlot {
	var ss []hwSlot
	for i, p := range t.points {
		for _, s := range pieces(p.Addr, p.Len) {
			s.kind, s.point = p.Kind, i
			ss = append(ss, s)
		}
	}
	return ss
}

// pieces splits [addr, addr+n) into the aligned pieces of 8, 4, 2 or 1
// bytes that debug registers can watch.
func pieces(addr uint64, n int) []hwSlot {
	var ps []hwSlot
	for n > 0 {
		size := 8
		for size > 1 && (addr%uint64(size) != 0 || size > n) {
			size /= 2
		}
		ps = append(ps, hwSlot{addr: addr, size: size})
		addr += uint64(size)
		n -= size
	}
	return ps
}

// Insert adds a hardware breakpoint (inferior.HWExec, one byte) or a watchpoint
// over [addr, addr+n), which takes as many debug registers as aligned
// pieces cover it. The same point inserted twice counts twice: each
// insertion takes registers and needs its own Remove.
func (t *HWTable) Insert(p inferior.HWPoint) error {
	if p.Len <= 0 || p.Addr+uint64(p.Len)-1 < p.Addr {
		return fmt.Errorf("%v at %#x, %d bytes: bad length", p.Kind, p.Addr, p.Len)
	}
	if p.Addr+uint64(p.Len) > hwTop {
		return fmt.Errorf("%v at %#x: not a user-space address", p.Kind, p.Addr)
	}
	if p.Kind == inferior.HWExec && p.Len != 1 {
		return fmt.Errorf("%v at %#x: length %d, not 1", p.Kind, p.Addr, p.Len)
	}
	if t.Used()+len(pieces(p.Addr, p.Len)) > HWSlots {
		return fmt.Errorf("%v at %#x, %d bytes: %w", p.Kind, p.Addr, p.Len, ErrNoSlots)
	}
	t.points = append(t.points, p)
	t.gen++
	return nil
}

// Remove removes a point that Insert added, freeing its registers.
func (t *HWTable) Remove(p inferior.HWPoint) error {
	i := slices.Index(t.points, p)
	if i < 0 {
		return fmt.Errorf("%v at %#x, %d bytes: %w", p.Kind, p.Addr, p.Len, ErrNotSet)
	}
	t.points = slices.Delete(t.points, i, i+1)
	t.gen++
	if p.Kind == inferior.HWExec && !t.Has(p) {
		delete(t.acts, p.Addr)
	}
	return nil
}

// Clear removes every point.
func (t *HWTable) Clear() {
	if len(t.points) > 0 {
		t.points = nil
		t.gen++
	}
	t.acts = nil
}

// SetConditions makes the hardware breakpoint at addr conditional: a hit
// counts only when Holds says so. No conditions make it unconditional
// again.
func (t *HWTable) SetConditions(addr uint64, conds []*agentexpr.Program) error {
	if !t.Has(inferior.HWPoint{Kind: inferior.HWExec, Addr: addr, Len: 1}) {
		return fmt.Errorf("conditions at %#x: %w", addr, ErrNotSet)
	}
	t.acts.setConditions(addr, conds)
	return nil
}

// SetCommands gives the hardware breakpoint at addr commands, as
// Table.SetCommands does.
func (t *HWTable) SetCommands(addr uint64, cmds []*agentexpr.Program, persist bool) error {
	if !t.Has(inferior.HWPoint{Kind: inferior.HWExec, Addr: addr, Len: 1}) {
		return fmt.Errorf("commands at %#x: %w", addr, ErrNotSet)
	}
	t.acts.setCommands(addr, cmds, persist)
	return nil
}

// Actions returns the conditions and commands of the hardware breakpoint
// at addr; nil when it has none. The value must not be changed.
func (t *HWTable) Actions(addr uint64) *Actions { return t.acts[addr] }

// Has reports whether p is in the table.
func (t *HWTable) Has(p inferior.HWPoint) bool { return slices.Contains(t.points, p) }

// HasExec reports whether the table holds a hardware breakpoint.
func (t *HWTable) HasExec() bool {
	return slices.ContainsFunc(t.points, func(p inferior.HWPoint) bool { return p.Kind == inferior.HWExec })
}

// Used returns the number of debug registers the points take: Registers
// fills DR0 up to DR(Used-1).
func (t *HWTable) Used() int { return len(t.slots()) }

// Points returns the points, in the order they were inserted. The slice
// is the table's: valid until the table changes.
func (t *HWTable) Points() []inferior.HWPoint { return t.points }

// Len returns the number of points.
func (t *HWTable) Len() int { return len(t.points) }

// Gen counts the table's changes: a thread whose debug registers were
// written at another Gen must have them written again before it runs.
// An empty table that never changed has Gen 0, which needs no writing.
func (t *HWTable) Gen() uint64 { return t.gen }

// Clone returns a copy of the table, for a forked child (whose threads
// start with clear debug registers, so the copy starts at a new Gen).
func (t *HWTable) Clone() *HWTable {
	c := &HWTable{points: slices.Clone(t.points), gen: t.gen, acts: maps.Clone(t.acts)}
	if len(c.points) > 0 {
		c.gen++
	}
	return c
}

// DR7 bits: a local enable bit per register, and per register two bits
// of condition and two of length from bit 16 on.
const (
	dr7RWShift  = 16
	dr7LenShift = 18
	dr7Stride   = 4
)

// Registers returns the values of DR0-DR3 and DR7 for the table.
func (t *HWTable) Registers() (addrs [HWSlots]uint64, dr7 uint64) {
	for i, s := range t.slots() {
		addrs[i] = s.addr
		var rw uint64
		switch s.kind {
		case inferior.HWWrite:
			rw = 0b01
		case inferior.HWAccess:
			rw = 0b11
		}
		var ln uint64
		switch s.size {
		case 2:
			ln = 0b01
		case 4:
			ln = 0b11
		case 8:
			ln = 0b10
		}
		if s.kind == inferior.HWExec {
			ln = 0 // instruction breakpoints always say one byte
		}
		dr7 |= 1 << (2 * i)
		dr7 |= rw << (dr7RWShift + dr7Stride*i)
		dr7 |= ln << (dr7LenShift + dr7Stride*i)
	}
	return addrs, dr7
}

// Hit returns the point that a debug trap with status dr6 (DR6, whose
// bits 0-3 say which registers' conditions were met) belongs to. With
// several, a watchpoint is preferred to a breakpoint, since the
// instruction that tripped it has already run.
func (t *HWTable) Hit(dr6 uint64) (inferior.HWPoint, bool) {
	found, ok := inferior.HWPoint{}, false
	for i, s := range t.slots() {
		if dr6&(1<<i) == 0 {
			continue
		}
		p := t.points[s.point]
		if !ok || found.Kind == inferior.HWExec && p.Kind != inferior.HWExec {
			found, ok = p, true
		}
	}
	return found, ok
}
