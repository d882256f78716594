package target

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"procgdb/inferior"
)

// What lldb asks of a process beyond gdb's packets, read from /proc and
// from the files the process maps: its memory map (qMemoryRegionInfo,
// qFileLoadAddress, qModuleInfo), its owner and parent (qProcessInfo),
// and where its dynamic linker keeps r_debug (qShlibInfoAddr). None of it
// needs ptrace except reading r_debug's address from the process.

// Mapping is one line of /proc/PID/maps: the addresses [Start, End), the
// permissions ("r-xp": read, write, execute, and p(rivate) or s(hared)),
// the offset in the mapped file, its inode, and its path or pseudo-name
// ("[stack]", "[heap]", "[vdso]"), empty for anonymous memory.
type Mapping struct {
	Start, End uint64
	Perms      string
	Offset     uint64
	Inode      uint64
	Path       string
}

// Readable, Writable and Executable report the mapping's permissions.
func (m Mapping) Readable() bool   { return len(m.Perms) > 0 && m.Perms[0] == 'r' }
func (m Mapping) Writable() bool   { return len(m.Perms) > 1 && m.Perms[1] == 'w' }
func (m Mapping) Executable() bool { return len(m.Perms) > 2 && m.Perms[2] == 'x' }

// parseMaps decodes the contents of /proc/PID/maps, in address order as
// the kernel writes it. A path may contain spaces; a deleted file keeps
// the kernel's " (deleted)" suffix.
func parseMaps(b []byte) ([]Mapping, error) {
	var ms []Mapping
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		m, err := parseMapsLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("maps line %d: %w", n+1, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

var errMapsLine = errors.New("malformed maps line")

// parseMapsLine decodes "start-end perms offset dev inode   path".
func parseMapsLine(line string) (Mapping, error) {
	var m Mapping
	// Five fields, then the path after a run of spaces.
	rest := line
	var f [5]string
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		j := strings.IndexByte(rest, ' ')
		if j < 0 {
			if i < 4 {
				return m, fmt.Errorf("%q: %w", line, errMapsLine)
			}
			j = len(rest)
		}
		f[i], rest = rest[:j], rest[j:]
	}
	m.Path = strings.TrimLeft(rest, " ")
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return m, fmt.Errorf("%q: address range: %w", line, errMapsLine)
	}
	var err error
	if m.Start, err = strconv.ParseUint(lo, 16, 64); err != nil {
		return m, fmt.Errorf("%q: start: %w", line, errMapsLine)
	}
	if m.End, err = strconv.ParseUint(hi, 16, 64); err != nil || m.End < m.Start {
		return m, fmt.Errorf("%q: end: %w", line, errMapsLine)
	}
	if len(f[1]) != 4 {
		return m, fmt.Errorf("%q: permissions: %w", line, errMapsLine)
	}
	m.Perms = f[1]
	if m.Offset, err = strconv.ParseUint(f[2], 16, 64); err != nil {
		return m, fmt.Errorf("%q: offset: %w", line, errMapsLine)
	}
	if m.Inode, err = strconv.ParseUint(f[4], 10, 64); err != nil {
		return m, fmt.Errorf("%q: inode: %w", line, errMapsLine)
	}
	return m, nil
}

// MemoryMap returns the mappings of process pid, in address order.
func (c *Ctl) MemoryMap(pid int) ([]Mapping, error) {
	if err := c.t.known(pid); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(procPath(c.t.procID(pid), "maps"))
	if err != nil {
		return nil, fmt.Errorf("memory map of %d: %w", pid, err)
	}
	return parseMaps(b)
}

// known checks that the tracer debugs pid, so that the /proc readers
// answer only for the tracer's own processes. Must run on the loop.
func (t *Tracer) known(pid int) error {
	if p := t.procs[pid]; p == nil || p.unreported {
		return fmt.Errorf("process %d: %w", pid, inferior.ErrNoProcess)
	}
	return nil
}

// ProcessStatus is who a process belongs to, from /proc/PID/status.
type ProcessStatus struct {
	PPID       int
	UID, EUID  int
	GID, EGID  int
	Name       string
	Executable string
}

// Status returns the parent and the real and effective ids of process pid.
func (c *Ctl) Status(pid int) (ProcessStatus, error) {
	if err := c.t.known(pid); err != nil {
		return ProcessStatus{}, err
	}
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return ProcessStatus{}, fmt.Errorf("status of %d: %w", pid, err)
	}
	st, err := parseStatus(b)
	if err != nil {
		return st, fmt.Errorf("status of %d: %w", pid, err)
	}
	st.Executable, _ = c.ExecFile(pid)
	return st, nil
}

// parseStatus reads the PPid, Uid and Gid lines of /proc/PID/status.
func parseStatus(b []byte) (ProcessStatus, error) {
	var st ProcessStatus
	seen := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Name":
			st.Name = strings.TrimSpace(val)
		case "PPid":
			if len(f) > 0 {
				st.PPID, _ = strconv.Atoi(f[0])
				seen++
			}
		case "Uid", "Gid":
			if len(f) < 2 {
				return st, fmt.Errorf("%s line %q: %w", key, line, errMapsLine)
			}
			rl, _ := strconv.Atoi(f[0])
			eff, _ := strconv.Atoi(f[1])
			if key == "Uid" {
				st.UID, st.EUID = rl, eff
			} else {
				st.GID, st.EGID = rl, eff
			}
			seen++
		}
	}
	if seen < 3 {
		return st, errors.New("no PPid, Uid or Gid line")
	}
	return st, nil
}

// DebugSlot returns the address in process pid where the dynamic linker
// stores the address of its r_debug (the value of the main program's
// DT_DEBUG entry), or 0 for a static program. lldb's qShlibInfoAddr asks
// for this address and reads r_debug's address from it.
func (c *Ctl) DebugSlot(pid int) (uint64, error) {
	auxv, err := c.Auxv(pid)
	if err != nil {
		return 0, err
	}
	var slot uint64
	p, err := c.t.lookup(pid)
	if err == nil {
		slot, _, err = dtDebug(p.mem.ReadAt, auxv)
	}
	if err != nil {
		return 0, fmt.Errorf("DT_DEBUG of %d: %w", pid, err)
	}
	return slot, nil
}

// FileLoadAddress returns the lowest address at which process pid maps
// the file at path, and false when it maps no such file.
func (c *Ctl) FileLoadAddress(pid int, path string) (uint64, bool, error) {
	ms, err := c.MemoryMap(pid)
	if err != nil {
		return 0, false, err
	}
	for _, m := range ms {
		if m.Path == path {
			return m.Start, true, nil
		}
	}
	return 0, false, nil
}

// ModuleFile describes an object file a process maps, as lldb's
// qModuleInfo asks: its GNU build id (the "UUID" lldb matches debug files
// by; empty when the file has none) and its size.
type ModuleFile struct {
	Path    string
	BuildID []byte
	Size    int64
}

// ErrNotMapped is returned for a file the process does not map.
var ErrNotMapped = errors.New("file not mapped by the process")

// Module describes the file at path, which process pid must map: procgdb
// tells a client about the program's own files, not about any file on
// the host.
func (c *Ctl) Module(pid int, path string) (ModuleFile, error) {
	if _, ok, err := c.FileLoadAddress(pid, path); err != nil {
		return ModuleFile{}, err
	} else if !ok {
		return ModuleFile{}, fmt.Errorf("%s: %w", path, ErrNotMapped)
	}
	return readModule(path)
}

// readModule opens an ELF file and reads its build id.
func readModule(path string) (ModuleFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return ModuleFile{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ModuleFile{}, err
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return ModuleFile{}, fmt.Errorf("%s: %w", path, err)
	}
	id, err := buildID(ef)
	if err != nil {
		return ModuleFile{}, fmt.Errorf("%s: %w", path, err)
	}
	return ModuleFile{Path: path, BuildID: id, Size: fi.Size()}, nil
}

// buildID returns the descriptor of the NT_GNU_BUILD_ID note, looked for
// in the PT_NOTE segments (present in every loadable file, stripped or
// not), or nil when there is none.
func buildID(f *elf.File) ([]byte, error) {
	const ntGNUBuildID = 3
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<20 {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return nil, err
		}
		if id := findNote(b, f.ByteOrder, "GNU", ntGNUBuildID); id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// findNote returns the descriptor of the note named name with type typ in
// a note segment (namesz, descsz, type, then name and descriptor, each
// padded to 4 bytes), or nil.
func findNote(b []byte, bo binary.ByteOrder, name string, typ uint32) []byte {
	align := func(n uint64) uint64 { return (n + 3) &^ 3 }
	for len(b) >= 12 {
		namesz, descsz, t := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		b = b[12:]
		if align(namesz) > uint64(len(b)) {
			return nil
		}
		n := string(bytes.TrimRight(b[:namesz], "\x00"))
		b = b[align(namesz):]
		if align(descsz) > uint64(len(b)) && descsz > uint64(len(b)) {
			return nil
		}
		desc := b[:descsz]
		if t == typ && n == name {
			return bytes.Clone(desc)
		}
		b = b[min(align(descsz), uint64(len(b))):]
	}
	return nil
}
