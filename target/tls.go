package target

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"procgdb/inferior"
)

// Thread-local storage, found as glibc's libthread_db finds it, without
// libthread_db. On x86-64 (TLS variant II) the thread pointer, fs_base,
// is the address of the thread's struct pthread, whose header points to
// its DTV (dynamic thread vector): dtv[0] holds the vector's generation,
// dtv[m] the address of the thread's TLS block of module m (the
// l_tls_modid of the module's link_map), or TLS_DTV_UNALLOCATED, whose
// low bit is set, until the thread first uses a block the dynamic linker
// allocates lazily. The dynamic linker's slotinfo list (a chain of arrays
// in _rtld_global) gives each module's link_map and the generation in
// which it was loaded: a DTV older than that has no slot for it yet.
// Where the DTV has no block, a module in the static TLS area (those
// loaded at start, and dlopened ones that asked for it) still has one, at
// the thread pointer minus the module's l_tls_offset.
//
// The structures are glibc's own, but glibc describes them for debuggers:
// for every field libthread_db reads, libc.so.6 (libpthread.so.0 before
// glibc 2.34) exports a symbol _thread_db_STRUCT_FIELD holding three
// 32-bit words: the field's size in bits (of one element, for an array),
// its number of elements (0 for an array of unknown length) and its byte
// offset. They are read from the process, never assumed, so that any
// glibc works; a program without them (static, or not glibc) gets a clear
// error.

// ErrTLSNotAllocated is returned for a module whose TLS block the thread
// has not allocated yet: a dlopened module the thread has not used.
// Neither glibc's libthread_db nor gdbserver has an address then.
var ErrTLSNotAllocated = errors.New("thread-local storage not allocated yet in this thread")

// errNoThreadDB says the program does not describe its thread library.
var errNoThreadDB = errors.New("the program's libraries do not describe their TLS for debuggers (a static program, or a C library other than glibc)")

// glibc's values for a link_map's l_tls_offset (ldsodefs.h, where TLS
// variant II leaves NO_TLS_OFFSET at its default): no offset yet, and a
// module whose TLS is dynamic for good.
const (
	noTLSOffset            = 0
	forcedDynamicTLSOffset = -1
)

// tdDesc is one of glibc's _thread_db descriptors.
type tdDesc struct {
	bits   uint32 // size of the field, or of one element, in bits
	count  uint32 // number of elements; 0 for an array of unknown length
	offset int32  // byte offset in its structure
}

// tdDescSize is the size of a descriptor in the process.
const tdDescSize = 12

// addr returns the address of element idx of the field in the structure
// at base.
func (d tdDesc) addr(base, idx uint64) (uint64, error) {
	if d.count != 0 && idx >= uint64(d.count) {
		return 0, fmt.Errorf("index %d beyond the %d elements of the field", idx, d.count)
	}
	return base + uint64(int64(d.offset)) + uint64(d.bits/8)*idx, nil
}

// fetch reads element idx of the field, an integer or a pointer, in the
// structure at base.
func (d tdDesc) fetch(read readFunc, base, idx uint64) (uint64, error) {
	a, err := d.addr(base, idx)
	if err != nil {
		return 0, err
	}
	var b [8]byte
	switch d.bits {
	case 8, 32, 64:
	default:
		return 0, fmt.Errorf("a field of %d bits is not a number", d.bits)
	}
	if err := read(b[:d.bits/8], a); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// The descriptors threadDB needs, by their names after "_thread_db_".
const (
	tdPthreadDTV      = "pthread_dtvp"                          // struct pthread: header.dtv
	tdDTV             = "dtv_dtv"                               // the DTV as an array of dtv_t
	tdDTVCounter      = "dtv_t_counter"                         // dtv_t: the generation, in dtv[0]
	tdDTVPointer      = "dtv_t_pointer_val"                     // dtv_t: a block's address
	tdModID           = "link_map_l_tls_modid"                  // struct link_map: the module's DTV index
	tdTLSOffset       = "link_map_l_tls_offset"                 // struct link_map: its static TLS offset
	tdSlotinfoList    = "rtld_global__dl_tls_dtv_slotinfo_list" // _rtld_global: the slotinfo list
	tdSlotinfoLen     = "dtv_slotinfo_list_len"                 // a list entry: its array's length
	tdSlotinfoNext    = "dtv_slotinfo_list_next"                // a list entry: the next entry
	tdSlotinfoEntries = "dtv_slotinfo_list_slotinfo"            // a list entry: its array
	tdSlotinfoGen     = "dtv_slotinfo_gen"                      // a slot: its module's generation
	tdSlotinfoMap     = "dtv_slotinfo_map"                      // a slot: its module's link_map
)

var tdNames = []string{
	tdPthreadDTV, tdDTV, tdDTVCounter, tdDTVPointer, tdModID, tdTLSOffset,
	tdSlotinfoList, tdSlotinfoLen, tdSlotinfoNext, tdSlotinfoEntries, tdSlotinfoGen, tdSlotinfoMap,
}

// rtldGlobal is the dynamic linker's global state, exported by ld.so.
const rtldGlobal = "_rtld_global"

// maxSlotinfoLists bounds the walk of the slotinfo list, which grows by
// one entry per few dozen modules.
const maxSlotinfoLists = 1 << 16

// threadDB is what TLS lookups need to know of a process's glibc.
type threadDB struct {
	desc       map[string]tdDesc
	rtldGlobal uint64 // address of _rtld_global
}

// tdSymbols finds the descriptors' and _rtld_global's addresses in the
// dynamic symbol tables of the process's libraries, whose files are read
// through root (the process's /proc/PID/root).
func tdSymbols(root string, libs []inferior.Library) (map[string]uint64, error) {
	want := make(map[string]bool, len(tdNames)+1)
	for _, n := range tdNames {
		want["_thread_db_"+n] = true
	}
	want[rtldGlobal] = true
	found := make(map[string]uint64, len(want))
	for _, l := range libs {
		if len(found) == len(want) {
			break
		}
		if !strings.HasPrefix(l.Name, "/") {
			continue // the vDSO, which has no file
		}
		syms, err := dynamicSymbols(root + l.Name)
		if err != nil {
			continue // not every object need be readable; the ones needed are named below
		}
		for _, s := range syms {
			if want[s.Name] && s.Section != elf.SHN_UNDEF {
				if _, dup := found[s.Name]; !dup {
					found[s.Name] = l.Addr + s.Value
				}
			}
		}
	}
	for n := range want {
		if _, ok := found[n]; !ok {
			return nil, fmt.Errorf("no symbol %s: %w", n, errNoThreadDB)
		}
	}
	return found, nil
}

// dynamicSymbols returns the dynamic symbols of the ELF file at path.
func dynamicSymbols(path string) ([]elf.Symbol, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.DynamicSymbols()
}

// loadThreadDB reads the descriptors at the addresses tdSymbols found.
func loadThreadDB(read readFunc, syms map[string]uint64) (*threadDB, error) {
	db := &threadDB{desc: make(map[string]tdDesc, len(tdNames)), rtldGlobal: syms[rtldGlobal]}
	var b [tdDescSize]byte
	for _, n := range tdNames {
		addr := syms["_thread_db_"+n]
		if err := read(b[:], addr); err != nil {
			return nil, fmt.Errorf("_thread_db_%s at %#x: %w", n, addr, err)
		}
		d := tdDesc{
			bits:   binary.LittleEndian.Uint32(b[0:]),
			count:  binary.LittleEndian.Uint32(b[4:]),
			offset: int32(binary.LittleEndian.Uint32(b[8:])),
		}
		if d.bits == 0 || d.bits%8 != 0 {
			return nil, fmt.Errorf("_thread_db_%s: a field of %d bits: %w", n, d.bits, errNoThreadDB)
		}
		db.desc[n] = d
	}
	return db, nil
}

// field reads element idx of the named field of the structure at base.
func (db *threadDB) field(read readFunc, name string, base, idx uint64) (uint64, error) {
	v, err := db.desc[name].fetch(read, base, idx)
	if err != nil {
		return 0, fmt.Errorf("%s of %#x: %w", name, base, err)
	}
	return v, nil
}

// slotinfo returns the link_map and the generation that the dynamic
// linker's slotinfo list records for module modid.
func (db *threadDB) slotinfo(read readFunc, modid uint64) (lm, gen uint64, err error) {
	list, err := db.field(read, tdSlotinfoList, db.rtldGlobal, 0)
	if err != nil {
		return 0, 0, err
	}
	first := uint64(0) // module id of the current entry's first slot
	for i := 0; ; i++ {
		if list == 0 || i == maxSlotinfoLists {
			return 0, 0, fmt.Errorf("module %d is not in the dynamic linker's slotinfo list", modid)
		}
		n, err := db.field(read, tdSlotinfoLen, list, 0)
		if err != nil {
			return 0, 0, err
		}
		if modid < first+n {
			break
		}
		first += n
		if list, err = db.field(read, tdSlotinfoNext, list, 0); err != nil {
			return 0, 0, err
		}
	}
	slot, err := db.desc[tdSlotinfoEntries].addr(list, modid-first)
	if err != nil {
		return 0, 0, fmt.Errorf("slot of module %d: %w", modid, err)
	}
	if lm, err = db.field(read, tdSlotinfoMap, slot, 0); err != nil {
		return 0, 0, err
	}
	if gen, err = db.field(read, tdSlotinfoGen, slot, 0); err != nil {
		return 0, 0, err
	}
	if lm == 0 {
		return 0, 0, fmt.Errorf("module %d has been unloaded", modid)
	}
	return lm, gen, nil
}

// tlsBase returns the address of the TLS block of the module whose
// link_map is at lm, in the thread whose thread pointer is tp, as glibc's
// td_thr_tlsbase does.
func (db *threadDB) tlsBase(read readFunc, tp, lm uint64) (uint64, error) {
	modid, err := db.field(read, tdModID, lm, 0)
	if err != nil {
		return 0, err
	}
	if modid == 0 {
		return 0, fmt.Errorf("module at %#x has no thread-local storage", lm)
	}
	slotLM, modGen, err := db.slotinfo(read, modid)
	if err != nil {
		return 0, err
	}
	dtv, err := db.field(read, tdPthreadDTV, tp, 0)
	if err != nil {
		return 0, err
	}
	// dtv[0].counter is the generation the vector is up to date with.
	gen0, err := db.desc[tdDTV].addr(dtv, 0)
	if err != nil {
		return 0, err
	}
	dtvGen, err := db.field(read, tdDTVCounter, gen0, 0)
	if err != nil {
		return 0, err
	}
	if dtvGen >= modGen {
		slot, err := db.desc[tdDTV].addr(dtv, modid)
		if err != nil {
			return 0, fmt.Errorf("DTV slot of module %d: %w", modid, err)
		}
		block, err := db.field(read, tdDTVPointer, slot, 0)
		if err != nil {
			return 0, err
		}
		if block&1 == 0 {
			return block, nil
		}
	}
	// No block in the DTV: the module's static TLS block, if it has one.
	off, err := db.field(read, tdTLSOffset, slotLM, 0)
	if err != nil {
		return 0, err
	}
	if o := int64(off); o == noTLSOffset || o == forcedDynamicTLSOffset {
		return 0, fmt.Errorf("module %d: %w", modid, ErrTLSNotAllocated)
	}
	return tp - off, nil
}

// TLSAddress returns the address of the thread-local variable at offset
// in the TLS block of the module whose link_map is at lm, in thread tid of
// process pid: what gdb asks with qGetTLSAddr.
func (c *Ctl) TLSAddress(pid, tid int, lm, offset uint64) (uint64, error) {
	addr, err := c.tlsAddress(pid, tid, lm, offset)
	if err != nil {
		return 0, fmt.Errorf("TLS of module %#x in thread %d: %w", lm, tid, err)
	}
	return addr, nil
}

func (c *Ctl) tlsAddress(pid, tid int, lm, offset uint64) (uint64, error) {
	if lm == 0 {
		// gdb sends 0 for a program that has no link_map yet: a static
		// one, or before the dynamic linker has run.
		return 0, errors.New("no link_map: the program is static or its dynamic linker has not run yet")
	}
	rs, err := c.Registers(pid, tid, false)
	if err != nil {
		return 0, err
	}
	tp := rs.GPR.Fs_base
	if tp == 0 {
		return 0, fmt.Errorf("the thread pointer is not set yet: %w", ErrTLSNotAllocated)
	}
	_, libs, err := c.Libraries(pid)
	if err != nil {
		return 0, err
	}
	syms, err := tdSymbols(procPath(pid, "root"), libs)
	if err != nil {
		return 0, err
	}
	p, err := c.t.lookup(pid)
	if err != nil {
		return 0, err
	}
	db, err := loadThreadDB(p.mem.ReadAt, syms)
	if err != nil {
		return 0, err
	}
	base, err := db.tlsBase(p.mem.ReadAt, tp, lm)
	return base + offset, err
}
