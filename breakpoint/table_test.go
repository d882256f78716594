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
	undo, err := tab.PrepareWrite(1, w)
	require.NoError(t, err)
	require.Equal(t, []byte{9, Int3, 9}, w)
	require.NoError(t, mem.WriteAt(w, 1))
	got := make([]byte, 4)
	require.NoError(t, mem.ReadAt(got, 0))
	tab.Shadow(0, got)
	require.Equal(t, []byte{1, 9, 9, 9}, got)

	// Undo puts the old saved byte back after a failed write.
	w2 := []byte{7}
	undo, err = tab.PrepareWrite(2, w2)
	require.NoError(t, err)
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

func TestPatch(t *testing.T) {
	orig := []byte{0x90, 0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0x90, 0x90}
	mem := &fakeMemory{base: 0x1000, b: append([]byte(nil), orig...)}
	tab := New(mem)
	jmp := []byte{0xe9, 1, 2, 3, 4}
	require.ErrorIs(t, tab.Patch(0x1001, jmp), ErrNotInserted)
	require.NoError(t, tab.Insert(0x1001))
	require.NoError(t, tab.Patch(0x1001, jmp))
	require.True(t, tab.Patched(0x1001))
	require.Equal(t, jmp, mem.b[1:6])
	require.Error(t, tab.Patch(0x1001, jmp), "patched already")

	// Readers see the original code under the patch.
	buf := append([]byte(nil), mem.b...)
	tab.Shadow(0x1000, buf)
	require.Equal(t, orig, buf)
	buf = append([]byte(nil), mem.b[3:7]...)
	tab.Shadow(0x1003, buf)
	require.Equal(t, orig[3:7], buf)

	// Whatever changes the breakpoint or its bytes puts the int3 back.
	for name, change := range map[string]func() error{
		"conditions": func() error { return tab.SetConditions(0x1001, nil) },
		"commands":   func() error { return tab.SetCommands(0x1001, nil, false) },
		"uncover": func() error {
			cover, err := tab.Uncover(0x1001)
			if err == nil {
				err = cover()
			}
			return err
		},
		"internal breakpoint": func() error { return tab.InsertInternal(0x1001) },
		"breakpoint inside":   func() error { return tab.Insert(0x1003) },
		"write inside": func() error {
			_, err := tab.PrepareWrite(0x1004, []byte{0x10})
			return err
		},
		"lift": tab.Lift,
	} {
		if !tab.Patched(0x1001) {
			require.NoError(t, tab.Patch(0x1001, jmp), name)
		}
		require.NoError(t, change(), name)
		require.False(t, tab.Patched(0x1001), name)
		want := byte(Int3)
		if name == "lift" {
			want = orig[1]
		}
		require.Equal(t, want, mem.b[1], name)
		buf := append([]byte(nil), mem.b...)
		tab.Shadow(0x1000, buf)
		require.Equal(t, orig, buf, name)
		require.NoError(t, tab.Restore(), name)
		if tab.Internal(0x1001) {
			require.NoError(t, tab.RemoveInternal(0x1001))
		}
		if tab.Has(0x1003) {
			require.NoError(t, tab.Remove(0x1003))
		}
	}
	if tab.Patched(0x1001) {
		require.NoError(t, tab.SetConditions(0x1001, nil))
	}
	require.NoError(t, tab.Insert(0x1005))
	require.ErrorContains(t, tab.Patch(0x1001, jmp), "breakpoint at 0x1005 inside")
	require.NoError(t, tab.Remove(0x1005))
	require.NoError(t, tab.Insert(0x1009))

	// A forked copy keeps the patch, or loses it with the breakpoints.
	require.NoError(t, tab.Patch(0x1001, jmp))
	child := &fakeMemory{base: 0x1000, b: append([]byte(nil), mem.b...)}
	c, err := tab.Clone(child)
	require.NoError(t, err)
	require.True(t, c.Patched(0x1001))
	require.NoError(t, tab.StripFrom(child))
	require.Equal(t, orig[:9], child.b[:9])

	require.NoError(t, tab.Remove(0x1001))
	require.NoError(t, tab.Remove(0x1009))
	require.Equal(t, orig, mem.b)
}
