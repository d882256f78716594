package breakpoint

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeMemory is a flat address space starting at base.
type fakeMemory struct {
	base uint64
	b    []byte
	fail bool
}

var errFault = errors.New("fault")

func (m *fakeMemory) ReadAt(p []byte, addr uint64) error {
	if m.fail || addr < m.base || addr+uint64(len(p)) > m.base+uint64(len(m.b)) {
		return errFault
	}
	copy(p, m.b[addr-m.base:])
	return nil
}

func (m *fakeMemory) WriteAt(p []byte, addr uint64) error {
	if m.fail || addr < m.base || addr+uint64(len(p)) > m.base+uint64(len(m.b)) {
		return errFault
	}
	copy(m.b[addr-m.base:], p)
	return nil
}

func TestInsertShadowRemove(t *testing.T) {
	mem := &fakeMemory{base: 0x1000, b: []byte{0x55, 0x48, 0x89, 0xe5, 0x90}}
	tab := New(mem)
	require.NoError(t, tab.Insert(0x1001))
	require.NoError(t, tab.Insert(0x1001), "second insert is a no-op")
	require.Equal(t, byte(Int3), mem.b[1])
	require.True(t, tab.Has(0x1001))

	buf := append([]byte(nil), mem.b...)
	tab.Shadow(0x1000, buf)
	require.Equal(t, []byte{0x55, 0x48, 0x89, 0xe5, 0x90}, buf)

	// A read that starts past the breakpoint is untouched.
	tail := []byte{0xcc, 0xcc}
	tab.Shadow(0x1002, tail)
	require.Equal(t, []byte{0xcc, 0xcc}, tail)

	require.NoError(t, tab.Remove(0x1001))
	require.Equal(t, byte(0x48), mem.b[1])
	require.ErrorIs(t, tab.Remove(0x1001), ErrNotInserted)
	require.Equal(t, 0, tab.Len())
}

func TestInsertFault(t *testing.T) {
	tab := New(&fakeMemory{base: 0x1000, b: make([]byte, 4)})
	require.ErrorIs(t, tab.Insert(0x2000), errFault)
	require.False(t, tab.Has(0x2000))
}

func TestPrepareWriteKeepsBreakpoint(t *testing.T) {
	mem := &fakeMemory{base: 0, b: []byte{1, 2, 3, 4}}
	tab := New(mem)
	require.NoError(t, tab.Insert(2))
	w := []byte{9, 9, 9}
	undo := tab.PrepareWrite(1, w)
	require.Equal(t, []byte{9, Int3, 9}, w)
	require.NoError(t, mem.WriteAt(w, 1))
	got := make([]byte, 4)
	require.NoError(t, mem.ReadAt(got, 0))
	tab.Shadow(0, got)
	require.Equal(t, []byte{1, 9, 9, 9}, got)

	// Undo puts the old saved byte back after a failed write.
	w2 := []byte{7}
	undo = tab.PrepareWrite(2, w2)
	undo()
	require.NoError(t, tab.Remove(2))
	require.Equal(t, byte(9), mem.b[2])
}

func TestLiftRestoreClear(t *testing.T) {
	mem := &fakeMemory{base: 0, b: []byte{1, 2, 3, 4}}
	tab := New(mem)
	require.NoError(t, tab.Insert(0))
	require.NoError(t, tab.Insert(3))
	require.NoError(t, tab.Lift())
	require.Equal(t, []byte{1, 2, 3, 4}, mem.b)
	require.True(t, tab.Has(3))
	require.NoError(t, tab.Restore())
	require.Equal(t, []byte{Int3, 2, 3, Int3}, mem.b)

	child := &fakeMemory{base: 0, b: append([]byte(nil), mem.b...)}
	require.NoError(t, tab.StripFrom(child))
	require.Equal(t, []byte{1, 2, 3, 4}, child.b)

	require.Equal(t, []uint64{0, 3}, tab.Addrs())
	require.NoError(t, tab.Clear())
	require.Equal(t, []byte{1, 2, 3, 4}, mem.b)
	require.Equal(t, 0, tab.Len())
}

func TestShadowWrapsAddressSpace(t *testing.T) {
	tab := New(&fakeMemory{base: 0, b: make([]byte, 1)})
	tab.orig[^uint64(0)-1] = 0x90
	buf := []byte{Int3, Int3}
	tab.Shadow(^uint64(0)-1, buf)
	require.Equal(t, []byte{0x90, Int3}, buf)
}

func TestClone(t *testing.T) {
	parent := &fakeMemory{base: 0, b: []byte{1, 2, 3}}
	tab := New(parent)
	require.NoError(t, tab.Insert(1))

	child := &fakeMemory{base: 0, b: append([]byte(nil), parent.b...)}
	c, err := tab.Clone(child)
	require.NoError(t, err)
	require.True(t, c.Has(1))
	buf := append([]byte(nil), child.b...)
	c.Shadow(0, buf)
	require.Equal(t, []byte{1, 2, 3}, buf)
	require.NoError(t, c.Clear())
	require.Equal(t, []byte{1, 2, 3}, child.b)
	require.Equal(t, byte(Int3), parent.b[1], "the parent keeps its breakpoint")
}

// TestInternal: internal breakpoints are counted by their users, share an
// int3 with the client's, and never show as the client's.
func TestInternal(t *testing.T) {
	mem := &fakeMemory{base: 0, b: []byte{1, 2, 3, 4}}
	tab := New(mem)
	require.NoError(t, tab.InsertInternal(1))
	require.NoError(t, tab.InsertInternal(1))
	require.True(t, tab.Internal(1))
	require.False(t, tab.Has(1), "not the client's")
	require.Empty(t, tab.Addrs())
	require.Equal(t, byte(Int3), mem.b[1])
	require.NoError(t, tab.Insert(1))
	require.NoError(t, tab.RemoveInternal(1))
	require.NoError(t, tab.RemoveInternal(1))
	require.False(t, tab.Internal(1))
	require.Equal(t, byte(Int3), mem.b[1], "the client's breakpoint stays")
	require.ErrorIs(t, tab.RemoveInternal(1), ErrNotInserted)
	require.NoError(t, tab.InsertInternal(1))
	require.NoError(t, tab.Remove(1))
	require.Equal(t, byte(Int3), mem.b[1], "the internal breakpoint stays")
	require.ErrorIs(t, tab.Remove(1), ErrNotInserted)
	require.NoError(t, tab.RemoveInternal(1))
	require.Equal(t, []byte{1, 2, 3, 4}, mem.b)
	require.Equal(t, 0, tab.Len())

	// Clear takes both kinds out.
	require.NoError(t, tab.Insert(2))
	require.NoError(t, tab.InsertInternal(3))
	require.NoError(t, tab.Clear())
	require.Equal(t, []byte{1, 2, 3, 4}, mem.b)
	require.False(t, tab.Planted(2) || tab.Planted(3))
}

// TestCloneStripsInternal: a forked child keeps the client's breakpoints
// and loses the internal ones, from its table and its memory.
func TestCloneStripsInternal(t *testing.T) {
	parent := &fakeMemory{base: 0, b: []byte{1, 2, 3, 4}}
	tab := New(parent)
	require.NoError(t, tab.Insert(1))
	require.NoError(t, tab.InsertInternal(1))
	require.NoError(t, tab.InsertInternal(2))
	child := &fakeMemory{base: 0, b: append([]byte(nil), parent.b...)}
	c, err := tab.Clone(child)
	require.NoError(t, err)
	require.Equal(t, []byte{1, Int3, 3, 4}, child.b)
	require.True(t, c.Has(1))
	require.False(t, c.Internal(1) || c.Planted(2))
	require.Equal(t, []byte{1, Int3, Int3, 4}, parent.b)
}

// TestUncover: the original byte comes back for a step in place, and the
// int3 after it, unless the breakpoint went meanwhile.
func TestUncover(t *testing.T) {
	mem := &fakeMemory{base: 0, b: []byte{1, 2, 3}}
	tab := New(mem)
	_, err := tab.Uncover(1)
	require.ErrorIs(t, err, ErrNotInserted)
	require.NoError(t, tab.Insert(1))
	cover, err := tab.Uncover(1)
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 3}, mem.b)
	require.True(t, tab.Has(1))
	require.NoError(t, cover())
	require.Equal(t, []byte{1, Int3, 3}, mem.b)

	cover, err = tab.Uncover(1)
	require.NoError(t, err)
	require.NoError(t, tab.Remove(1))
	require.NoError(t, cover())
	require.Equal(t, []byte{1, 2, 3}, mem.b, "removed meanwhile: no int3 back")
}
