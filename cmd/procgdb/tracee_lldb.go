package main

import (
	"procgdb/inferior"
	"procgdb/rsp"
)

// What lldb asks of the target beyond gdb's needs: rsp.Inspector
// (rsp/modules.go) and rsp.Allocator (rsp/memory.go).

var (
	_ rsp.Inspector = (*tracee)(nil)
	_ rsp.Allocator = (*tracee)(nil)
)

func (t *tracee) ProcessInfo(pid int) (rsp.ProcessInfo, error) {
	st, err := t.c().Status(pid)
	if err != nil {
		return rsp.ProcessInfo{}, err
	}
	return rsp.ProcessInfo{PID: pid, PPID: st.PPID, UID: st.UID, GID: st.GID, EUID: st.EUID, EGID: st.EGID}, nil
}

func (t *tracee) MemoryRegions(pid int) ([]rsp.MemoryRegion, error) {
	ms, err := t.c().MemoryMap(pid)
	if err != nil {
		return nil, err
	}
	rs := make([]rsp.MemoryRegion, len(ms))
	for i, m := range ms {
		rs[i] = rsp.MemoryRegion{
			Start: m.Start, End: m.End,
			Read: m.Readable(), Write: m.Writable(), Exec: m.Executable(),
			Name: m.Path,
		}
	}
	return rs, nil
}

func (t *tracee) SharedLibraryInfoAddr(pid int) (uint64, error) { return t.c().DebugSlot(pid) }

func (t *tracee) Module(pid int, path string) (rsp.ModuleInfo, error) {
	m, err := t.c().Module(pid, path)
	if err != nil {
		return rsp.ModuleInfo{}, err
	}
	return rsp.ModuleInfo{Path: m.Path, BuildID: m.BuildID, Size: m.Size}, nil
}

func (t *tracee) AllocateMemory(id inferior.ThreadID, size uint64, prot int) (uint64, error) {
	return t.c().Mmap(id.PID, id.TID, size, prot)
}

func (t *tracee) FreeMemory(id inferior.ThreadID, addr, size uint64) error {
	return t.c().Munmap(id.PID, id.TID, addr, size)
}
