package target

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"procgdb/inferior"
)

// The dynamic linker's list of loaded objects, read from the process as
// glibc lays it out (elf/link.h): the main program's PT_DYNAMIC holds a
// DT_DEBUG entry that points to struct r_debug, whose r_map heads a list
// of struct link_map. Reading it here saves the client dozens of memory
// reads per stop, and needs no symbols.

// Offsets in glibc's x86-64 structures.
const (
	rDebugMap    = 8  // r_debug.r_map
	linkMapAddr  = 0  // link_map.l_addr
	linkMapName  = 8  // link_map.l_name
	linkMapLD    = 16 // link_map.l_ld
	linkMapNext  = 24 // link_map.l_next
	linkMapSize  = 32 // the part of link_map read
	phdrSize     = 56 // sizeof(Elf64_Phdr)
	dynSize      = 16 // sizeof(Elf64_Dyn)
	maxLibraries = 1 << 16
	maxPathLen   = 4096
	maxDynamic   = 1 << 12 // entries scanned in PT_DYNAMIC
)

type readFunc func(p []byte, addr uint64) error

// auxvValue returns the value of auxv entry tag.
func auxvValue(auxv []byte, tag uint64) (uint64, bool) {
	for i := 0; i+16 <= len(auxv); i += 16 {
		t := binary.LittleEndian.Uint64(auxv[i:])
		if t == tag {
			return binary.LittleEndian.Uint64(auxv[i+8:]), true
		}
		if t == 0 {
			break
		}
	}
	return 0, false
}

// rDebugAddr finds the address of r_debug through the main program's
// program headers; it returns 0 before the dynamic linker has set it up
// and for statically linked programs.
func rDebugAddr(read readFunc, auxv []byte) (uint64, error) {
	_, rdebug, err := dtDebug(read, auxv)
	return rdebug, err
}

// dtDebug finds the main program's DT_DEBUG entry: slot is the address
// of its value, where the dynamic linker stores the address of r_debug,
// and rdebug that value. Both are 0 for a static program; rdebug is 0
// until the dynamic linker has run.
func dtDebug(read readFunc, auxv []byte) (slot, rdebug uint64, err error) {
	const atPhdr, atPhnum = 3, 5
	phdr, ok1 := auxvValue(auxv, atPhdr)
	phnum, ok2 := auxvValue(auxv, atPhnum)
	if !ok1 || !ok2 || phnum == 0 || phnum > 1<<16 {
		return 0, 0, errors.New("auxv has no program headers")
	}
	ph := make([]byte, phnum*phdrSize)
	if err := read(ph, phdr); err != nil {
		return 0, 0, fmt.Errorf("program headers: %w", err)
	}
	var bias, dynVaddr, dynSz uint64
	var haveBias, haveDyn bool
	for i := uint64(0); i < phnum; i++ {
		p := ph[i*phdrSize:]
		vaddr := binary.LittleEndian.Uint64(p[16:])
		switch elf.ProgType(binary.LittleEndian.Uint32(p)) {
		case elf.PT_PHDR:
			bias, haveBias = phdr-vaddr, true
		case elf.PT_DYNAMIC:
			dynVaddr, dynSz, haveDyn = vaddr, binary.LittleEndian.Uint64(p[40:]), true
		}
	}
	if !haveDyn {
		return 0, 0, nil // static: no dynamic linker, no libraries
	}
	if !haveBias {
		return 0, 0, errors.New("program headers have no PT_PHDR")
	}
	n := min(dynSz/dynSize, maxDynamic)
	dyn := make([]byte, n*dynSize)
	if err := read(dyn, bias+dynVaddr); err != nil {
		return 0, 0, fmt.Errorf("dynamic section: %w", err)
	}
	for i := uint64(0); i < n; i++ {
		tag := elf.DynTag(binary.LittleEndian.Uint64(dyn[i*dynSize:]))
		if tag == elf.DT_NULL {
			break
		}
		if tag == elf.DT_DEBUG {
			return bias + dynVaddr + i*dynSize + 8, binary.LittleEndian.Uint64(dyn[i*dynSize+8:]), nil
		}
	}
	return 0, 0, nil
}

// readLibraries walks the link_map list. The first entry is the main
// program; the rest are returned as libraries.
func readLibraries(read readFunc, auxv []byte) (mainLM uint64, libs []inferior.Library, err error) {
	rdebug, err := rDebugAddr(read, auxv)
	if err != nil || rdebug == 0 {
		return 0, nil, err
	}
	var w [8]byte
	if err := read(w[:], rdebug+rDebugMap); err != nil {
		return 0, nil, fmt.Errorf("r_debug at %#x: %w", rdebug, err)
	}
	lm := binary.LittleEndian.Uint64(w[:])
	mainLM = lm
	var ent [linkMapSize]byte
	for i := 0; lm != 0; i++ {
		if i == maxLibraries {
			return mainLM, libs, errors.New("link_map list does not end")
		}
		if err := read(ent[:], lm); err != nil {
			return mainLM, libs, fmt.Errorf("link_map at %#x: %w", lm, err)
		}
		if lm != mainLM {
			name, err := readCString(read, binary.LittleEndian.Uint64(ent[linkMapName:]))
			if err != nil {
				return mainLM, libs, fmt.Errorf("link_map at %#x: name: %w", lm, err)
			}
			if name != "" {
				libs = append(libs, inferior.Library{
					Name: name,
					LM:   lm,
					Addr: binary.LittleEndian.Uint64(ent[linkMapAddr:]),
					LD:   binary.LittleEndian.Uint64(ent[linkMapLD:]),
				})
			}
		}
		lm = binary.LittleEndian.Uint64(ent[linkMapNext:])
	}
	return mainLM, libs, nil
}

// readCString reads a NUL-terminated string, a chunk at a time so that a
// string near the end of a mapping does not fail the whole read.
func readCString(read readFunc, addr uint64) (string, error) {
	if addr == 0 {
		return "", nil
	}
	var out []byte
	var chunk [64]byte
	for len(out) < maxPathLen {
		// Stay within one page so an unmapped next page does not fail
		// a read whose string ends before it.
		n := min(uint64(len(chunk)), 4096-addr%4096)
		if err := read(chunk[:n], addr); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			return string(append(out, chunk[:i]...)), nil
		}
		out = append(out, chunk[:n]...)
		addr += n
	}
	return "", errors.New("string too long")
}

// Libraries returns the dynamic linker's list of loaded objects: the
// address of the main program's link_map and the shared objects after it.
func (c *Ctl) Libraries(pid int) (mainLM uint64, libs []inferior.Library, err error) {
	auxv, err := c.Auxv(pid)
	if err != nil {
		return 0, nil, err
	}
	p, err := c.t.lookup(pid)
	if err == nil {
		mainLM, libs, err = readLibraries(p.mem.ReadAt, auxv)
	}
	if err != nil {
		err = fmt.Errorf("libraries of %d: %w", pid, err)
	}
	return mainLM, libs, err
}
