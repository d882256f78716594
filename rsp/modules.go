package rsp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// lldb's questions about the object files a process maps
// (lldbgdbremote.md), where gdb reads qXfer:libraries-svr4 (xfer.go) and
// the files themselves: qShlibInfoAddr, qFileLoadAddress, qModuleInfo and
// jModulesInfo. They need a target that is an Inspector, as qProcessInfo's
// ids (query.go) and qMemoryRegionInfo (memory.go) do.

// modulePackets are the dispatch-table rows of lldb's module queries.
func modulePackets() []entry {
	return []entry{
		{prefix: "qShlibInfoAddr", enabled: isInspector, handle: (*Session).shlibInfoAddr},
		{prefix: "qFileLoadAddress:", enabled: isInspector, handle: (*Session).fileLoadAddress},
		{prefix: "qModuleInfo:", enabled: isInspector, handle: (*Session).moduleInfo},
		{prefix: "jModulesInfo:", enabled: isInspector, handle: (*Session).jModulesInfo},
	}
}

// ModuleInfo describes an object file a process maps, for qModuleInfo:
// its GNU build id (which lldb calls the UUID) and size.
type ModuleInfo struct {
	Path    string
	BuildID []byte
	Size    int64
}

// Inspector is implemented by targets that can describe a process as
// lldb asks: its owner, memory map, dynamic linker data and object files.
// The session offers qProcessInfo's ids, qMemoryRegionInfo,
// qFileLoadAddress, qShlibInfoAddr, qModuleInfo and jModulesInfo only when
// its Target is an Inspector. Methods are called while the target is
// stopped.
type Inspector interface {
	// ProcessInfo returns process pid's parent and ids.
	ProcessInfo(pid int) (ProcessInfo, error)
	// MemoryRegions returns the mappings of process pid in address
	// order, without overlaps.
	MemoryRegions(pid int) ([]MemoryRegion, error)
	// SharedLibraryInfoAddr returns the address in process pid where
	// the dynamic linker keeps the address of its r_debug (the value of
	// the main program's DT_DEBUG entry), or 0 for a static program.
	SharedLibraryInfoAddr(pid int) (uint64, error)
	// Module describes the object file at path, which process pid must
	// map; a file it does not map is an error.
	Module(pid int, path string) (ModuleInfo, error)
}

func isInspector(s *Session) bool { _, ok := s.t.(Inspector); return ok }

// errNotLoaded is qFileLoadAddress's E01: the file is not mapped.
var errNotLoaded = &protoError{codeMalformed, "file not loaded"}

// shlibInfoAddr answers qShlibInfoAddr with the address of the main
// program's DT_DEBUG value. lldb (14) reads a pointer there to find
// r_debug, as it does with the address it computes from the executable
// when a stub does not answer; the address of r_debug itself would send it
// reading the first fields of r_debug as a pointer.
func (s *Session) shlibInfoAddr(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	addr, err := s.t.(Inspector).SharedLibraryInfoAddr(pid)
	if err != nil {
		return errorReply(err)
	}
	if addr == 0 {
		return errorReply(fmt.Errorf("a static program has no DT_DEBUG: %w", errUnsupported))
	}
	s.buf = appendHexUint(s.buf[:0], addr)
	return dataReply(s.buf)
}

// fileLoadAddress answers qFileLoadAddress:HEX-PATH with the lowest
// address the file is mapped at.
func (s *Session) fileLoadAddress(args []byte) reply {
	path, err := parseHexString(args)
	if err != nil {
		return errorReply(fmt.Errorf("path %q: %w", args, err))
	}
	rs, err := s.memoryRegions()
	if err != nil {
		return errorReply(err)
	}
	for _, r := range rs {
		if r.Name == path {
			s.buf = appendHexUint(s.buf[:0], r.Start)
			return dataReply(s.buf)
		}
	}
	return errorReply(fmt.Errorf("%s: %w", path, errNotLoaded))
}

// moduleSpec is one module lldb asks about.
type moduleSpec struct {
	File   string `json:"file"`
	Triple string `json:"triple"`
}

// parseModuleInfo decodes qModuleInfo's "HEX-PATH;HEX-TRIPLE".
func parseModuleInfo(b []byte) (moduleSpec, error) {
	p, t, ok := bytes.Cut(b, []byte(";"))
	if !ok {
		return moduleSpec{}, fmt.Errorf("%q: want path;triple: %w", b, errMalformed)
	}
	path, err := parseHexString(p)
	if err != nil {
		return moduleSpec{}, fmt.Errorf("path %q: %w", p, err)
	}
	triple, err := parseHexString(t)
	if err != nil {
		return moduleSpec{}, fmt.Errorf("triple %q: %w", t, err)
	}
	return moduleSpec{File: path, Triple: triple}, nil
}

// uuidString formats a build id as lldb writes UUIDs: upper-case hex.
func uuidString(id []byte) string {
	return strings.ToUpper(string(appendHex(nil, id)))
}

// module describes a file the current process maps.
func (s *Session) module(path string) (ModuleInfo, error) {
	pid, err := s.currentProcess()
	if err != nil {
		return ModuleInfo{}, err
	}
	return s.t.(Inspector).Module(pid, path)
}

// moduleInfo answers qModuleInfo:HEX-PATH;HEX-TRIPLE. The UUID is the
// file's build id; a file without one is identified by nothing better, so
// it gets an error and lldb uses the file as it finds it.
func (s *Session) moduleInfo(args []byte) reply {
	spec, err := parseModuleInfo(args)
	if err != nil {
		return errorReply(err)
	}
	m, err := s.module(spec.File)
	if err != nil {
		return errorReply(err)
	}
	if len(m.BuildID) == 0 {
		return errorReply(fmt.Errorf("%s has no build id: %w", spec.File, errUnsupported))
	}
	dst := kvHex(s.buf[:0], "uuid", uuidString(m.BuildID))
	dst = kvHex(dst, "triple", lldbTriple)
	dst = kvHex(dst, "file_path", m.Path)
	dst = kvUint(dst, "file_offset", 0)
	dst = kvUint(dst, "file_size", uint64(m.Size))
	s.buf = dst
	return dataReply(dst)
}

// moduleJSON is one entry of jModulesInfo's reply.
type moduleJSON struct {
	UUID       string `json:"uuid"`
	Triple     string `json:"triple"`
	FilePath   string `json:"file_path"`
	FileOffset uint64 `json:"file_offset"`
	FileSize   int64  `json:"file_size"`
}

// maxModules bounds one jModulesInfo request.
const maxModules = 4096

// jModulesInfo answers jModulesInfo:[{"file":...,"triple":...},...] with
// the modules it could describe; the others are left out, as lldb
// expects.
func (s *Session) jModulesInfo(args []byte) reply {
	var specs []moduleSpec
	if err := json.Unmarshal(args, &specs); err != nil {
		return errorReply(fmt.Errorf("%w: %v", errMalformed, err))
	}
	if len(specs) > maxModules {
		return errorReply(fmt.Errorf("%d modules: %w", len(specs), errMalformed))
	}
	out := []moduleJSON{}
	for _, spec := range specs {
		m, err := s.module(spec.File)
		if err != nil || len(m.BuildID) == 0 {
			continue
		}
		out = append(out, moduleJSON{UUID: uuidString(m.BuildID), Triple: lldbTriple, FilePath: m.Path, FileSize: m.Size})
	}
	js, err := json.Marshal(out)
	if err != nil {
		return errorReply(err)
	}
	s.buf = append(s.buf[:0], js...)
	return dataReply(s.buf)
}
