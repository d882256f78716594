package rsp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"procgdb/regs"
)

// lldb's extensions to the protocol, per lldb's "GDB Remote Protocol
// Extensions" (lldbgdbremote.md); the ones that choose lldb's dialect are
// in dialect.go.
//
// The queries qHostInfo, qProcessInfo, qGDBServerVersion, jThreadsInfo,
// qThreadStopInfo, qRegisterInfo, qWatchpointSupportInfo and
// QSetDisableASLR need nothing new from the target. qMemoryRegionInfo,
// qFileLoadAddress, qShlibInfoAddr, qModuleInfo and jModulesInfo need an
// Inspector; _M and _m (memory allocated in the process for the
// expressions lldb evaluates) an Allocator. procgdb answers no
// qPlatform_shell or other packet that runs commands.

// ProcessInfo is who a process belongs to, for qProcessInfo.
type ProcessInfo struct {
	PID, PPID int
	UID, GID  int // real ids
	EUID      int // effective ids
	EGID      int
}

// MemoryRegion is one mapping of a process's address space,
// [Start, End), as /proc/PID/maps shows it. Name is the mapped file's
// path, a pseudo-name such as "[stack]", or empty.
type MemoryRegion struct {
	Start, End        uint64
	Read, Write, Exec bool
	Name              string
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

// Allocator is implemented by targets that can map and unmap memory in a
// process by making the process itself call mmap and munmap in stopped
// thread t, leaving the thread's registers and code as they were.
type Allocator interface {
	// AllocateMemory maps size bytes of anonymous memory with
	// protection prot (unix.PROT_*) and returns its address.
	AllocateMemory(t ThreadID, size uint64, prot int) (uint64, error)
	// FreeMemory unmaps what AllocateMemory mapped at addr.
	FreeMemory(t ThreadID, addr, size uint64) error
}

// registerSaves are the snapshots QSaveRegisterState took, by id; last is
// the last id handed out.
type registerSaves struct {
	byID map[uint64]savedRegisters
	last uint64
}

// savedRegisters is one QSaveRegisterState snapshot.
type savedRegisters struct {
	thread ThreadID
	set    regs.Set
}

// maxSavedRegisters bounds the snapshots a client may leave unrestored.
const maxSavedRegisters = 64

// lldbTriple is the target triple lldb expects of a Linux x86-64 process.
const lldbTriple = "x86_64-pc-linux-gnu"

func isInspector(s *Session) bool { _, ok := s.t.(Inspector); return ok }
func isAllocator(s *Session) bool { _, ok := s.t.(Allocator); return ok }

// lldbPackets are the dispatch-table entries of lldb's packets.
func lldbPackets() []entry {
	return []entry{
		{prefix: "qHostInfo", handle: (*Session).hostInfo},
		{prefix: "qProcessInfo", handle: (*Session).processInfo},
		{prefix: "qGDBServerVersion", handle: (*Session).serverVersion},
		{prefix: "qWatchpointSupportInfo", handle: (*Session).watchpointSupportInfo},
		{prefix: "QSetDisableASLR:", handle: (*Session).setDisableASLR},
		{prefix: "jThreadsInfo", handle: (*Session).jThreadsInfo},
		{prefix: "qThreadStopInfo", anyArgs: true, handle: (*Session).threadStopInfo},
		{prefix: "qRegisterInfo", anyArgs: true, handle: (*Session).registerInfo},
		{prefix: "QSaveRegisterState", handle: withThread((*Session).saveRegisterState)},
		{prefix: "QRestoreRegisterState:", handle: withThread((*Session).restoreRegisterState)},
		{prefix: "qMemoryRegionInfo", enabled: isInspector, handle: (*Session).memoryRegionInfo},
		{prefix: "qFileLoadAddress:", enabled: isInspector, handle: (*Session).fileLoadAddress},
		{prefix: "qShlibInfoAddr", enabled: isInspector, handle: (*Session).shlibInfoAddr},
		{prefix: "qModuleInfo:", enabled: isInspector, handle: (*Session).moduleInfo},
		{prefix: "jModulesInfo:", enabled: isInspector, handle: (*Session).jModulesInfo},
		{prefix: "_M", anyArgs: true, enabled: isAllocator, handle: (*Session).allocateMemory},
		{prefix: "_m", anyArgs: true, enabled: isAllocator, handle: (*Session).deallocateMemory},
		{prefix: "vFile:size:", enabled: hasFiles, handle: (*Session).vFileSize},
		{prefix: "vFile:mode:", enabled: hasFiles, handle: (*Session).vFileMode},
		{prefix: "vFile:exists:", enabled: hasFiles, handle: (*Session).vFileExists},
	}
}

// parseThreadSuffix splits ";thread:TID;" off the end of p. ok is false
// when p has no suffix.
func parseThreadSuffix(p []byte) (rest []byte, t ThreadID, ok bool, err error) {
	i := bytes.LastIndex(p, []byte(";thread:"))
	if i < 0 {
		return p, ThreadID{}, false, nil
	}
	id := bytes.TrimSuffix(p[i+len(";thread:"):], []byte(";"))
	if t, err = parseThreadID(id); err != nil {
		return p, ThreadID{}, false, fmt.Errorf("thread suffix: %w", err)
	}
	return p[:i], t, true, nil
}

// withThread adapts the handler of a packet that lldb may end with a
// thread suffix, ";thread:TID;" (g, G, p, P, QSaveRegisterState and
// QRestoreRegisterState, once the client sent QThreadSuffixSupported).
// h gets the thread the packet applies to: the suffix's, checked to be one
// thread, else the Hg selection; and the arguments without the suffix.
func withThread(h func(s *Session, sel ThreadID, args []byte) reply) func(*Session, []byte) reply {
	return func(s *Session, args []byte) reply {
		sel, args, err := s.packetThread(args)
		if err != nil {
			return errorReply(err)
		}
		return h(s, sel, args)
	}
}

// packetThread splits the thread suffix, if any, off a packet's arguments
// and returns the thread the packet applies to (see withThread).
func (s *Session) packetThread(args []byte) (ThreadID, []byte, error) {
	if !s.dialect.threadSuffix {
		return s.general, args, nil
	}
	rest, t, ok, err := parseThreadSuffix(args)
	if err != nil || !ok {
		return s.general, args, err
	}
	if t, err = s.checkThread(t); err != nil {
		return s.general, args, err
	}
	if t.TID <= 0 {
		return s.general, args, fmt.Errorf("thread suffix names no single thread: %w", errUnknownThread)
	}
	return t, rest, nil
}

// kv appends "key:value;".
func kv(dst []byte, key, value string) []byte {
	return append(append(append(append(dst, key...), ':'), value...), ';')
}

// kvHex appends "key:HEX;" for a hex-encoded string value.
func kvHex(dst []byte, key, value string) []byte {
	return append(appendHex(append(append(dst, key...), ':'), []byte(value)), ';')
}

// kvUint appends "key:N;" with N in hex.
func kvUint(dst []byte, key string, v uint64) []byte {
	return append(appendHexUint(append(append(dst, key...), ':'), v), ';')
}

// hostInfo answers qHostInfo: what lldb needs to pick its plug-ins for a
// Linux x86-64 host, and the host's name and kernel.
func (s *Session) hostInfo(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	s.dialect.speakLLDB()
	dst := kvHex(s.buf[:0], "triple", lldbTriple)
	dst = kv(dst, "ptrsize", "8")
	dst = kv(dst, "endian", "little")
	dst = kv(dst, "ostype", "linux")
	dst = kv(dst, "watchpoint_exceptions_received", "after")
	dst = kv(dst, "vm-page-size", strconv.Itoa(os.Getpagesize()))
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		release := unix.ByteSliceToString(u.Release[:])
		if v := osVersion(release); v != "" {
			dst = kv(dst, "os_version", v)
		}
		dst = kvHex(dst, "os_build", release)
		dst = kvHex(dst, "os_kernel", unix.ByteSliceToString(u.Version[:]))
		dst = kvHex(dst, "hostname", unix.ByteSliceToString(u.Nodename[:]))
	}
	s.buf = dst
	return dataReply(dst)
}

// osVersion returns the leading "X.Y.Z" of a kernel release such as
// "6.1.0-18-amd64", or "".
func osVersion(release string) string {
	end := 0
	for end < len(release) && (release[end] == '.' || release[end] >= '0' && release[end] <= '9') {
		end++
	}
	return strings.Trim(release[:end], ".")
}

// processInfo answers qProcessInfo for the current process. The ids are
// hex, the triple hex-encoded text.
func (s *Session) processInfo(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	dst := kvUint(s.buf[:0], "pid", uint64(pid))
	if in, ok := s.t.(Inspector); ok {
		pi, err := in.ProcessInfo(pid)
		if err != nil {
			return errorReply(err)
		}
		dst = kvUint(dst, "parent-pid", uint64(pi.PPID))
		dst = kvUint(dst, "real-uid", uint64(pi.UID))
		dst = kvUint(dst, "real-gid", uint64(pi.GID))
		dst = kvUint(dst, "effective-uid", uint64(pi.EUID))
		dst = kvUint(dst, "effective-gid", uint64(pi.EGID))
	}
	dst = kvHex(dst, "triple", lldbTriple)
	dst = kv(dst, "ostype", "linux")
	dst = kv(dst, "endian", "little")
	dst = kv(dst, "ptrsize", "8")
	s.buf = dst
	return dataReply(dst)
}

// serverVersion answers qGDBServerVersion.
func (s *Session) serverVersion(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	return textReply("name:procgdb;version:1;")
}

// watchpointSupportInfo answers qWatchpointSupportInfo with the number
// of debug registers, which lldb's watchpoints share; 0 without hardware
// points, so that lldb does not try Z2-Z4.
func (s *Session) watchpointSupportInfo([]byte) reply {
	n := 0
	if hp, ok := s.t.(HWPointer); ok && hp.HWSupport(HWWrite) {
		n = hp.HWSlots()
	}
	return textReply(fmt.Sprintf("num:%d;", n))
}

// setDisableASLR answers QSetDisableASLR, lldb's name for
// QDisableRandomization.
func (s *Session) setDisableASLR(args []byte) reply {
	on, err := parseFlag(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.disableASLR = on
	return okReply
}

// stopReason returns the reason: lldb is told for ev, or "".
func stopReason(ev StopEvent) string {
	switch ev.Kind {
	case StopBreakpoint, StopHWBreakpoint:
		return "breakpoint"
	case StopWatchpoint:
		return "watchpoint"
	case StopStep:
		return "trace"
	case StopSignal:
		if ev.Signal != 0 {
			return "signal"
		}
	case StopExec:
		return "exec"
	}
	return ""
}

// stopDescription returns the description: lldb is told with a
// watchpoint reason: the watched address (decimal, as lldb-server
// writes it), which lldb matches to its watchpoint.
func stopDescription(ev StopEvent) string {
	if ev.Kind != StopWatchpoint {
		return ""
	}
	return strconv.FormatUint(ev.HWAddr, 10)
}

// appendThreadName appends the thread's name as name: when it is plain
// text, else as hexname:.
func appendThreadName(dst []byte, name string) []byte {
	plain := name != ""
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c > ' ' && c <= '~' && c != ':' && c != ';' && !needsEscape[c]
	}
	if plain {
		return kv(dst, "name", name)
	}
	return kvHex(dst, "hexname", name)
}

// appendLLDBStop appends what lldb's T replies carry beyond gdb's: the
// thread's name (when named: appendStop read it with the core), the stop
// reason and, with QListThreadsInStopReply, the threads of the process
// with their PCs and jstopinfo.
func (s *Session) appendLLDBStop(dst []byte, ev StopEvent, name string, named bool) []byte {
	if !s.dialect.lldb || !threadStop(ev.Kind) {
		return dst
	}
	if named {
		dst = appendThreadName(dst, name)
	}
	if r := stopReason(ev); r != "" {
		dst = kv(dst, "reason", r)
	}
	if d := stopDescription(ev); d != "" {
		dst = kvHex(dst, "description", d)
	}
	if !s.dialect.listThreads {
		return dst
	}
	threads, err := s.t.Threads(ev.PID)
	if err != nil {
		return dst
	}
	dst = append(dst, "threads:"...)
	for i, tid := range threads {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHexUint(dst, uint64(tid))
	}
	dst = append(dst, ";thread-pcs:"...)
	for i, tid := range threads {
		if i > 0 {
			dst = append(dst, ',')
		}
		var pc uint64
		if rs, err := s.t.Registers(ThreadID{ev.PID, tid}, false); err == nil {
			pc = rs.GPR.Rip
		}
		dst = appendHexUint(dst, pc)
	}
	dst = append(dst, ';')
	if len(threads) > 1 {
		info := []lldbThreadInfo{s.threadInfoJSON(ev, name, false)}
		if js, err := json.Marshal(info); err == nil {
			dst = append(appendHex(append(dst, "jstopinfo:"...), js), ';')
		}
	}
	return dst
}

// lldbThreadInfo is one thread in jThreadsInfo and jstopinfo.
type lldbThreadInfo struct {
	TID       int               `json:"tid"`
	Name      string            `json:"name,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Desc      string            `json:"description,omitempty"`
	Signal    int               `json:"signal"`
	Registers map[string]string `json:"registers,omitempty"`
}

// threadInfoJSON describes the thread of ev, named name, with its
// expedited registers when withRegs is set.
func (s *Session) threadInfoJSON(ev StopEvent, name string, withRegs bool) lldbThreadInfo {
	t := ThreadID{ev.PID, ev.TID}
	info := lldbThreadInfo{TID: ev.TID, Reason: stopReason(ev), Desc: stopDescription(ev)}
	switch ev.Kind {
	case StopSignal:
		info.Signal = s.dialect.toWire(ev.Signal)
	default:
		info.Signal = s.dialect.toWire(int(unix.SIGTRAP))
	}
	if ev.Kind == StopSignal && ev.Signal == 0 {
		info.Signal = 0
	}
	info.Name = name
	if withRegs {
		if rs, err := s.t.Registers(t, false); err == nil {
			info.Registers = map[string]string{}
			for _, n := range expedited {
				if val, err := rs.AppendRegister(nil, n); err == nil {
					info.Registers[strconv.Itoa(n)] = string(appendHex(nil, val))
				}
			}
		}
	}
	return info
}

// threadEvent returns the stop to report for thread t: the last stop if
// it was t's, else a stop with no signal, which is what all-stop means
// for the other threads.
func (s *Session) threadEvent(t ThreadID) StopEvent {
	if s.hasLast && threadStop(s.last.Kind) && s.last.PID == t.PID && s.last.TID == t.TID {
		return replayed(s.last)
	}
	return StopEvent{Kind: StopSignal, PID: t.PID, TID: t.TID}
}

// jThreadsInfo answers with every thread of the current process as JSON:
// its id, name, stop reason and expedited registers.
func (s *Session) jThreadsInfo(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	threads, err := s.t.Threads(pid)
	if err != nil {
		return errorReply(err)
	}
	infos := make([]lldbThreadInfo, 0, len(threads))
	for _, tid := range threads {
		name, _, _ := s.t.ThreadInfo(ThreadID{pid, tid})
		infos = append(infos, s.threadInfoJSON(s.threadEvent(ThreadID{pid, tid}), name, true))
	}
	js, err := json.Marshal(infos)
	if err != nil {
		return errorReply(err)
	}
	s.buf = append(s.buf[:0], js...)
	return dataReply(s.buf)
}

// threadStopInfo answers qThreadStopInfoTID with the thread's stop reply.
func (s *Session) threadStopInfo(args []byte) reply {
	t, err := parseThreadID(args)
	if err != nil {
		return errorReply(err)
	}
	if t, err = s.checkThread(t); err != nil {
		return errorReply(err)
	}
	if t.TID <= 0 {
		return errorReply(fmt.Errorf("%s: %w", s.formatThread(t), errUnknownThread))
	}
	s.buf = s.appendStop(s.buf[:0], s.threadEvent(t))
	return dataReply(s.buf)
}

// saveRegisterState answers QSaveRegisterState with the id of a snapshot
// of the thread's registers, in decimal.
func (s *Session) saveRegisterState(sel ThreadID, args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	t, rs, err := s.registers(sel, true)
	if err != nil {
		return errorReply(err)
	}
	if s.saves.byID == nil {
		s.saves.byID = map[uint64]savedRegisters{}
	}
	if len(s.saves.byID) >= maxSavedRegisters {
		return errorReply(fmt.Errorf("%d register states saved and not restored: %w", len(s.saves.byID), errUnsupported))
	}
	s.saves.last++
	snap := savedRegisters{thread: t, set: *rs}
	snap.set.XSave = slices.Clone(rs.XSave)
	s.saves.byID[s.saves.last] = snap
	return textReply(strconv.FormatUint(s.saves.last, 10))
}

// restoreRegisterState answers QRestoreRegisterState:ID, giving the
// thread the registers of snapshot ID, which is then forgotten.
func (s *Session) restoreRegisterState(sel ThreadID, args []byte) reply {
	id, err := strconv.ParseUint(string(args), 10, 64)
	if err != nil {
		return errorReply(fmt.Errorf("save id %q: %w", args, errMalformed))
	}
	snap, ok := s.saves.byID[id]
	if !ok {
		return errorReply(fmt.Errorf("save id %d: %w", id, errBadAnnex))
	}
	t, err := s.pickThread(sel)
	if err != nil {
		return errorReply(err)
	}
	delete(s.saves.byID, id)
	set := snap.set
	set.XSave = slices.Clone(snap.set.XSave)
	return s.storeRegisters(t, &set)
}

// parseRegionAddr decodes qMemoryRegionInfo's ":ADDR".
func parseRegionAddr(b []byte) (uint64, error) {
	if len(b) == 0 || b[0] != ':' {
		return 0, fmt.Errorf("%q: want ':address': %w", b, errMalformed)
	}
	return parseHexUint(bytes.TrimPrefix(b[1:], []byte("0x")))
}

// regionAt returns the region containing addr, or the gap around it (a
// region with no permissions) when addr is unmapped.
func regionAt(rs []MemoryRegion, addr uint64) MemoryRegion {
	var gapStart uint64
	for _, r := range rs {
		if addr < r.Start {
			return MemoryRegion{Start: gapStart, End: r.Start}
		}
		if addr < r.End {
			return r
		}
		gapStart = r.End
	}
	return MemoryRegion{Start: gapStart, End: 0} // up to the end of the address space
}

// appendRegion appends the qMemoryRegionInfo reply for r.
func appendRegion(dst []byte, r MemoryRegion) []byte {
	dst = kvUint(dst, "start", r.Start)
	dst = kvUint(dst, "size", r.End-r.Start)
	if r.Read || r.Write || r.Exec {
		perms := ""
		if r.Read {
			perms += "r"
		}
		if r.Write {
			perms += "w"
		}
		if r.Exec {
			perms += "x"
		}
		dst = kv(dst, "permissions", perms)
	}
	if r.Name != "" {
		dst = kvHex(dst, "name", r.Name)
	}
	return dst
}

// memoryRegions returns the mappings of the current process.
func (s *Session) memoryRegions() ([]MemoryRegion, error) {
	pid, err := s.currentProcess()
	if err != nil {
		return nil, err
	}
	return s.t.(Inspector).MemoryRegions(pid)
}

// memoryRegionInfo answers qMemoryRegionInfo:ADDR with the mapping that
// holds ADDR, or the unmapped gap around it.
func (s *Session) memoryRegionInfo(args []byte) reply {
	addr, err := parseRegionAddr(args)
	if err != nil {
		return errorReply(err)
	}
	rs, err := s.memoryRegions()
	if err != nil {
		return errorReply(err)
	}
	s.buf = appendRegion(s.buf[:0], regionAt(rs, addr))
	return dataReply(s.buf)
}

// decodeHexString decodes a hex-encoded text argument.
// errNotLoaded is qFileLoadAddress's E01: the file is not mapped.
var errNotLoaded = &protoError{codeMalformed, "file not loaded"}

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

// memAlloc is an _M request.
type memAlloc struct {
	size uint64
	prot int
}

// parseMemAlloc decodes _M's "SIZE,PERMISSIONS", the permissions a
// string of r, w and x.
func parseMemAlloc(b []byte) (memAlloc, error) {
	sz, perms, ok := bytes.Cut(b, []byte(","))
	if !ok {
		return memAlloc{}, fmt.Errorf("%q: want size,permissions: %w", b, errMalformed)
	}
	size, err := parseHexUint(sz)
	if err != nil {
		return memAlloc{}, fmt.Errorf("size %q: %w", sz, err)
	}
	if size == 0 || size > 1<<40 {
		return memAlloc{}, fmt.Errorf("size %#x: %w", size, errMalformed)
	}
	prot := 0
	for _, c := range perms {
		switch c {
		case 'r':
			prot |= unix.PROT_READ
		case 'w':
			prot |= unix.PROT_WRITE
		case 'x':
			prot |= unix.PROT_EXEC
		default:
			return memAlloc{}, fmt.Errorf("permissions %q: %w", perms, errMalformed)
		}
	}
	return memAlloc{size: size, prot: prot}, nil
}

// allocateMemory answers _MSIZE,PERMS with the address of new memory,
// mapped by the current thread.
func (s *Session) allocateMemory(args []byte) reply {
	req, err := parseMemAlloc(args)
	if err != nil {
		return errorReply(err)
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	addr, err := s.t.(Allocator).AllocateMemory(t, req.size, req.prot)
	if err != nil {
		return errorReply(err)
	}
	if s.allocs == nil {
		s.allocs = map[uint64]uint64{}
	}
	s.allocs[addr] = req.size
	s.buf = appendHexUint(s.buf[:0], addr)
	return dataReply(s.buf)
}

// deallocateMemory answers _mADDR, unmapping what _M returned at ADDR.
func (s *Session) deallocateMemory(args []byte) reply {
	addr, err := parseHexUint(args)
	if err != nil {
		return errorReply(fmt.Errorf("address %q: %w", args, err))
	}
	size, ok := s.allocs[addr]
	if !ok {
		return errorReply(fmt.Errorf("%#x was not allocated with _M: %w", addr, errBadAnnex))
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	if err := s.t.(Allocator).FreeMemory(t, addr, size); err != nil {
		return errorReply(err)
	}
	delete(s.allocs, addr)
	return okReply
}

// registerInfo answers qRegisterInfoN from the register table; see
// regs.Layout.LLDBRegisterInfo.
func (s *Session) registerInfo(args []byte) reply {
	n, err := parseHexInt(args)
	if err != nil {
		return errorReply(fmt.Errorf("register %q: %w", args, err))
	}
	layout := s.layout()
	desc, ok := layout.LLDBRegisterInfo(n)
	if !ok {
		return errorReply(fmt.Errorf("register %d: %w", n, errBadAnnex))
	}
	return textReply(desc)
}

// layout returns the register layout of the current thread, or nil (the
// registers every x86-64 has) when there is no thread to ask.
func (s *Session) layout() *regs.Layout {
	if _, rs, err := s.registers(s.general, false); err == nil {
		return rs.Layout
	}
	return nil
}

// lldb's host I/O packets beyond gdb's (lldb's vFile:open flags and
// errno values are gdb's since lldb 14): vFile:size, vFile:mode and
// vFile:exists, each on a hex-encoded path, answered from Stat in the
// FileSystem the session's vFile packets use.

// vFileSize answers vFile:size:HEX-PATH with "F" and the size in hex.
func (s *Session) vFileSize(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Stat)
	if err != nil {
		return s.fileError("size", err)
	}
	return s.fileResult(st.Size)
}

// vFileMode answers vFile:mode:HEX-PATH with "F" and the mode bits in hex.
func (s *Session) vFileMode(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Stat)
	if err != nil {
		return s.fileError("mode", err)
	}
	return s.fileResult(int64(st.Mode))
}

// vFileExists answers vFile:exists:HEX-PATH with "F,1" or "F,0".
func (s *Session) vFileExists(args []byte) reply {
	if _, err := s.vFileStatOf(args, FileSystem.Stat); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return textReply("F,0")
		}
		return s.fileError("exists", err)
	}
	return textReply("F,1")
}
