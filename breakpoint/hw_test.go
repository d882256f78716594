package breakpoint

import (
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
)

func TestHWPieces(t *testing.T) {
	for _, c := range []struct {
		addr uint64
		n    int
		want []hwSlot
	}{
		{0x1000, 8, []hwSlot{{addr: 0x1000, size: 8}}},
		{0x1004, 4, []hwSlot{{addr: 0x1004, size: 4}}},
		{0x1001, 4, []hwSlot{{addr: 0x1001, size: 1}, {addr: 0x1002, size: 2}, {addr: 0x1004, size: 1}}},
		{0x1006, 6, []hwSlot{{addr: 0x1006, size: 2}, {addr: 0x1008, size: 4}}},
		{0x1000, 16, []hwSlot{{addr: 0x1000, size: 8}, {addr: 0x1008, size: 8}}},
		{0x1003, 1, []hwSlot{{addr: 0x1003, size: 1}}},
	} {
		require.Equal(t, c.want, pieces(c.addr, c.n), "%#x,%d", c.addr, c.n)
	}
}

func TestHWTableRegisters(t *testing.T) {
	var tb HWTable
	require.Zero(t, tb.Gen())
	require.NoError(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040, Len: 4}))
	require.NoError(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWExec, Addr: 0x401136, Len: 1}))
	require.NoError(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWAccess, Addr: 0x601048, Len: 8}))
	addrs, dr7 := tb.Registers()
	require.Equal(t, [HWSlots]uint64{0x601040, 0x401136, 0x601048, 0}, addrs)
	// DR0: enabled, write, 4 bytes; DR1: enabled, execute, 1 byte;
	// DR2: enabled, read or write, 8 bytes.
	want := uint64(1|1<<2|1<<4) | 0b01<<16 | 0b11<<18 | 0b00<<20 | 0b00<<22 | 0b11<<24 | 0b10<<26
	require.Equal(t, want, dr7, "dr7 %#x, want %#x", dr7, want)
	require.Equal(t, uint64(3), tb.Gen())
	require.True(t, tb.HasExec())
	require.Equal(t, 3, tb.Used())

	// An unaligned watch takes several registers; one too many fails and
	// changes nothing.
	require.ErrorIs(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601051, Len: 2}), ErrNoSlots)
	require.Equal(t, 3, tb.Len())
	require.Equal(t, uint64(3), tb.Gen())

	p, ok := tb.Hit(1 << 2)
	require.True(t, ok)
	require.Equal(t, inferior.HWPoint{Kind: inferior.HWAccess, Addr: 0x601048, Len: 8}, p)
	p, ok = tb.Hit(1<<1 | 1<<0)
	require.True(t, ok)
	require.Equal(t, inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040, Len: 4}, p, "a watchpoint before a breakpoint")
	_, ok = tb.Hit(1 << 14) // single-step only
	require.False(t, ok)

	// Removing the first renumbers the rest.
	require.NoError(t, tb.Remove(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040, Len: 4}))
	require.ErrorIs(t, tb.Remove(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040, Len: 4}), ErrNotSet)
	addrs, dr7 = tb.Registers()
	require.Equal(t, [HWSlots]uint64{0x401136, 0x601048, 0, 0}, addrs)
	require.Equal(t, uint64(1|1<<2)|0b11<<20|0b10<<22, dr7)
	p, ok = tb.Hit(1 << 1)
	require.True(t, ok)
	require.Equal(t, inferior.HWPoint{Kind: inferior.HWAccess, Addr: 0x601048, Len: 8}, p)

	c := tb.Clone()
	require.NotEqual(t, tb.Gen(), c.Gen(), "a fork child's threads need writing")
	tb.Clear()
	require.Zero(t, tb.Len())
	_, dr7 = tb.Registers()
	require.Zero(t, dr7)
	require.Equal(t, 2, c.Len())
}

func TestHWTableRejects(t *testing.T) {
	var tb HWTable
	require.Error(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWExec, Addr: 0x1000, Len: 2}))
	require.Error(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x1000, Len: 0}))
	require.Error(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: ^uint64(0), Len: 2}))
	require.Error(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0xffffffffff600000, Len: 8}), "kernel address")
	require.ErrorIs(t, tb.Insert(inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x1001, Len: 40}), ErrNoSlots)
	require.Zero(t, tb.Gen())
}
