package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// fakeMem is memory at [base, base+len(b)), for the pure TLS functions.
type fakeMem struct {
	base uint64
	b    []byte
}

func (m *fakeMem) read(p []byte, addr uint64) error {
	if addr < m.base || addr-m.base+uint64(len(p)) > uint64(len(m.b)) {
		return fmt.Errorf("read %#x: %w", addr, unix.EIO)
	}
	copy(p, m.b[addr-m.base:])
	return nil
}

func (m *fakeMem) put64(addr, v uint64) {
	binary.LittleEndian.PutUint64(m.b[addr-m.base:], v)
}

func (m *fakeMem) putDesc(addr uint64, d tdDesc) {
	binary.LittleEndian.PutUint32(m.b[addr-m.base:], d.bits)
	binary.LittleEndian.PutUint32(m.b[addr-m.base+4:], d.count)
	binary.LittleEndian.PutUint32(m.b[addr-m.base+8:], uint32(d.offset))
}

// A made-up glibc, laid out unlike the real one so that nothing in the
// lookup can rest on glibc's actual offsets.
var fakeDescs = map[string]tdDesc{
	tdPthreadDTV:      {64, 1, 24},
	tdDTV:             {192, 0, 0}, // dtv_t of 24 bytes
	tdDTVCounter:      {64, 1, 8},
	tdDTVPointer:      {64, 1, 16},
	tdModID:           {32, 1, 48}, // a 32-bit field
	tdTLSOffset:       {64, 1, 40},
	tdSlotinfoList:    {64, 1, 72},
	tdSlotinfoLen:     {64, 1, 8},
	tdSlotinfoNext:    {64, 1, 0},
	tdSlotinfoEntries: {256, 0, 32}, // slots of 32 bytes
	tdSlotinfoGen:     {64, 1, 16},
	tdSlotinfoMap:     {64, 1, 0},
}

// Addresses in the fake process.
const (
	fakeDescs0  = 0x10000 // the descriptors, 16 bytes apart
	fakeRtld    = 0x11000
	fakeList1   = 0x12000 // slotinfo entries: modules 0 and 1
	fakeList2   = 0x13000 // modules 2 to 6
	fakeDTV     = 0x14000
	fakeLMs     = 0x15000 // link_maps, 0x100 apart, by module id
	fakeTP      = 0x20000
	fakeMemSize = 0x11000
	fakeBlock1  = 0x7f0000001000
	fakeBlock6  = 0x7f0000006000
)

// fakeProcess returns the memory of a process whose modules are:
//
//	1  loaded at start, block in the DTV
//	2  loaded at start, DTV slot unallocated: its static block
//	3  dlopened after the DTV was made, dynamic TLS: not allocated
//	4  dlopened after the DTV was made, static TLS: its static block
//	5  dlopened, DTV slot unallocated, no static offset: not allocated
//	6  dlopened, block in the DTV
//
// and the addresses of the descriptors and _rtld_global.
func fakeProcess() (*fakeMem, map[string]uint64) {
	m := &fakeMem{base: fakeDescs0, b: make([]byte, fakeMemSize)}
	syms := map[string]uint64{rtldGlobal: fakeRtld}
	for i, n := range tdNames {
		a := uint64(fakeDescs0 + 16*i)
		m.putDesc(a, fakeDescs[n])
		syms["_thread_db_"+n] = a
	}
	m.put64(fakeRtld+72, fakeList1)
	m.put64(fakeList1+8, 2)
	m.put64(fakeList1, fakeList2)
	m.put64(fakeList2+8, 5)
	const dtvGen = 1
	m.put64(fakeTP+24, fakeDTV)
	m.put64(fakeDTV+8, dtvGen)
	mods := []struct {
		gen, staticOff, block uint64
	}{
		1: {0, 0x100, fakeBlock1},
		2: {0, 0x200, ^uint64(0)},
		3: {2, ^uint64(0), 0},
		4: {2, 0x400, 0},
		5: {1, 0, ^uint64(0)},
		6: {1, ^uint64(0), fakeBlock6},
	}
	for id := uint64(1); id < uint64(len(mods)); id++ {
		lm := fakeLMs + 0x100*id
		binary.LittleEndian.PutUint32(m.b[lm+48-m.base:], uint32(id))
		m.put64(lm+40, mods[id].staticOff)
		list, first := uint64(fakeList1), uint64(0)
		if id >= 2 {
			list, first = fakeList2, 2
		}
		slot := list + 32 + 32*(id-first)
		m.put64(slot, lm)
		m.put64(slot+16, mods[id].gen)
		m.put64(fakeDTV+24*id+16, mods[id].block)
	}
	return m, syms
}

func TestTLSBase(t *testing.T) {
	m, syms := fakeProcess()
	db, err := loadThreadDB(m.read, syms)
	require.NoError(t, err)
	require.Equal(t, fakeDescs, db.desc)
	lm := func(id uint64) uint64 { return fakeLMs + 0x100*id }
	tests := []struct {
		name string
		lm   uint64
		want uint64
		err  error
	}{
		{"allocated", lm(1), fakeBlock1, nil},
		{"unallocated static", lm(2), fakeTP - 0x200, nil},
		{"newer dynamic", lm(3), 0, ErrTLSNotAllocated},
		{"newer static", lm(4), fakeTP - 0x400, nil},
		{"unallocated without offset", lm(5), 0, ErrTLSNotAllocated},
		{"allocated in the second list entry", lm(6), fakeBlock6, nil},
		{"unreadable link_map", 0x1000, 0, unix.EIO},
	}
	for _, tt := range tests {
		got, err := db.tlsBase(m.read, fakeTP, tt.lm)
		if tt.err != nil {
			require.ErrorIs(t, err, tt.err, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}

	_, err = db.tlsBase(m.read, fakeTP, lm(0))
	require.ErrorContains(t, err, "has no thread-local storage")

	// A module id beyond the slotinfo list.
	binary.LittleEndian.PutUint32(m.b[lm(1)+48-m.base:], 9)
	_, err = db.tlsBase(m.read, fakeTP, lm(1))
	require.ErrorContains(t, err, "module 9 is not in the dynamic linker's slotinfo list")
}

func TestLoadThreadDBRejects(t *testing.T) {
	m, syms := fakeProcess()
	m.putDesc(syms["_thread_db_"+tdModID], tdDesc{12, 1, 48})
	_, err := loadThreadDB(m.read, syms)
	require.ErrorIs(t, err, errNoThreadDB)

	_, err = tdSymbols("/nonexistent", []inferior.Library{{Name: "/lib/libc.so.6"}, {Name: "linux-vdso.so.1"}})
	require.ErrorIs(t, err, errNoThreadDB)
}

func TestTDDescFetch(t *testing.T) {
	m := &fakeMem{base: 0x1000, b: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
	tests := []struct {
		d    tdDesc
		base uint64
		idx  uint64
		want uint64
		err  string
	}{
		{tdDesc{8, 1, 2}, 0x1000, 0, 3, ""},
		{tdDesc{32, 1, 4}, 0x1000, 0, 0x08070605, ""},
		{tdDesc{64, 1, 8}, 0x1000, 0, 0x100f0e0d0c0b0a09, ""},
		{tdDesc{32, 3, 0}, 0x1000, 2, 0x0c0b0a09, ""},
		{tdDesc{32, 0, 0}, 0x1000, 3, 0x100f0e0d, ""},
		{tdDesc{32, 1, -4}, 0x1008, 0, 0x08070605, ""},
		{tdDesc{32, 3, 0}, 0x1000, 3, 0, "beyond the 3 elements"},
		{tdDesc{16, 1, 0}, 0x1000, 0, 0, "not a number"},
		{tdDesc{64, 1, 12}, 0x1000, 0, 0, "input/output error"},
	}
	for _, tt := range tests {
		got, err := tt.d.fetch(m.read, tt.base, tt.idx)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, "%+v", tt.d)
			continue
		}
		require.NoError(t, err, "%+v", tt.d)
		require.Equal(t, tt.want, got, "%+v", tt.d)
	}
}

// TestTLSAddressErrors asks a real process for TLS before it has any:
// at its first instruction the dynamic linker has not run.
func TestTLSAddressErrors(t *testing.T) {
	prog := build(t, "basic")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	t.Cleanup(func() { tr.Kill(pid) })
	_, err := tr.TLSAddress(pid, pid, 0, 0)
	require.ErrorContains(t, err, "no link_map")
	_, err = tr.TLSAddress(pid, pid, 0x1000, 0)
	require.True(t, errors.Is(err, ErrTLSNotAllocated), "fs_base is 0: %v", err)
}
