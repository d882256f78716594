package rsp

import (
	"encoding/json"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

// Stop replies, per the manual's "Stop Reply Packets": a thread that stops
// is reported as "T AA n:r;...", a process that exits as "W AA" (exit
// status) and one killed by a signal as "X AA", where AA is gdb's signal
// number in two hex digits. The optional events (events.go) are T05
// replies with a stop reason (fork:CHILD-THREAD-ID, vfork:CHILD-THREAD-ID,
// vforkdone:, exec:HEX-PATH, syscall_entry:HEX-NUMBER,
// syscall_return:HEX-NUMBER, create:), "w AA;THREAD-ID" for a thread that
// exited with status AA, and "N" when no thread is left running. The
// clone:CHILD-THREAD-ID reason of QThreadOptions (gdb 15) is one of them.
//
// For lldb, T replies carry more (dialect.go, appendLLDBStop): the
// thread's name and lldb's reason:, and, after QListThreadsInStopReply,
// the threads of the process with their PCs. lldb also asks for the stop
// of each thread, with qThreadStopInfoTID (a stop reply) and jThreadsInfo
// (JSON, with expedited registers).

// stopPackets are the dispatch-table rows of '?' and lldb's stop queries.
func stopPackets() []entry {
	return []entry{
		{prefix: "?", handle: (*Session).haltReason},
		{prefix: "jThreadsInfo", handle: (*Session).jThreadsInfo},
		{prefix: "qThreadStopInfo", anyArgs: true, handle: (*Session).threadStopInfo},
	}
}

// expedited are the registers every T reply carries: the general
// registers, rip and eflags. With them gdb shows the innermost frame and
// evaluates a condition on its registers without asking for any (gdbserver
// sends rbp, rsp and rip alone, and gdb then asks for all of them, 1.6 KB
// with the vector registers, at every stop at a conditional breakpoint);
// lldb-server too sends them all.
var expedited = func() (ns [regs.EFLAGS - regs.RAX + 1]int) {
	for i := range ns {
		ns[i] = regs.RAX + i
	}
	return ns
}()

// stopFormat is what the client negotiated that changes stop replies.
type stopFormat struct {
	multiprocess bool // thread ids are pPID.TID; W and X name the process
	swbreak      bool // the client understands the swbreak stop reason
	hwbreak      bool // the client understands the hwbreak stop reason
	native       bool // signals are Linux's numbers, not gdb's (lldb)
	// sOnly and noThread: T replies are turned off (S replies, with the
	// signal alone), or their thread: field is (Disabled).
	sOnly, noThread bool
}

// signal returns the number a stop reply gives host signal sig.
func (f stopFormat) signal(sig int) int { return wireSignal(sig, f.native) }

// appendStopReply appends the stop reply for ev. rs holds the stopped
// thread's registers to expedite (nil for none); core is the CPU it last
// ran on, or -1 when unknown.
func appendStopReply(dst []byte, ev inferior.Event, f stopFormat, rs *regs.Set, core int) []byte {
	switch ev.Kind {
	case inferior.EventExited:
		dst = appendHexByte(append(dst, 'W'), byte(ev.ExitCode))
		return appendProcess(dst, ev.PID, f)
	case inferior.EventKilled:
		dst = appendHexByte(append(dst, 'X'), byte(f.signal(ev.Signal)))
		return appendProcess(dst, ev.PID, f)
	case inferior.EventThreadExited:
		dst = append(appendHexByte(append(dst, 'w'), byte(ev.ExitCode)), ';')
		return appendThreadID(dst, inferior.ThreadID{PID: ev.PID, TID: ev.TID}, f.multiprocess)
	case inferior.EventNoResumed:
		return append(dst, 'N')
	}
	sig := int(unix.SIGTRAP)
	if ev.Kind == inferior.EventSignal {
		sig = ev.Signal
	}
	if f.sOnly {
		return appendHexByte(append(dst, 'S'), byte(f.signal(sig)))
	}
	dst = appendHexByte(append(dst, 'T'), byte(f.signal(sig)))
	if !f.noThread {
		dst = append(dst, "thread:"...)
		dst = appendThreadID(dst, inferior.ThreadID{PID: ev.PID, TID: ev.TID}, f.multiprocess)
		dst = append(dst, ';')
	}
	if rs != nil {
		for _, n := range expedited {
			var raw [8]byte
			val, err := rs.AppendRegister(raw[:0], n)
			if err != nil {
				continue
			}
			dst = append(appendHexByte(dst, byte(n)), ':')
			dst = append(appendHex(dst, val), ';')
		}
	}
	switch ev.Kind {
	case inferior.EventBreakpoint:
		if f.swbreak {
			dst = append(dst, "swbreak:;"...)
		}
	case inferior.EventHWBreakpoint:
		if f.hwbreak {
			dst = append(dst, "hwbreak:;"...)
		}
	case inferior.EventWatchpoint:
		reason := "watch:"
		switch ev.HW.Kind {
		case inferior.HWRead:
			reason = "rwatch:"
		case inferior.HWAccess:
			reason = "awatch:"
		}
		dst = append(appendHexUint(append(dst, reason...), ev.HW.Addr), ';')
	case inferior.EventFork, inferior.EventVFork, inferior.EventClone:
		reason := "fork:"
		switch ev.Kind {
		case inferior.EventVFork:
			reason = "vfork:"
		case inferior.EventClone:
			reason = "clone:"
		}
		dst = appendThreadID(append(dst, reason...), inferior.ThreadID{PID: ev.ChildPID, TID: ev.ChildTID}, f.multiprocess)
		dst = append(dst, ';')
	case inferior.EventVForkDone:
		dst = append(dst, "vforkdone:;"...)
	case inferior.EventExec:
		dst = append(appendHex(append(dst, "exec:"...), []byte(ev.ExecPath)), ';')
	case inferior.EventSyscallEntry, inferior.EventSyscallReturn:
		reason := "syscall_entry:"
		if ev.Kind == inferior.EventSyscallReturn {
			reason = "syscall_return:"
		}
		dst = append(appendHexUint(append(dst, reason...), uint64(ev.Syscall)), ';')
	case inferior.EventThreadCreated:
		dst = append(dst, "create:;"...)
	}
	if core >= 0 {
		dst = append(appendHexUint(append(dst, "core:"...), uint64(core)), ';')
	}
	return dst
}

// appendProcess appends ";process:PID" when the client speaks
// multiprocess; the "W00" of a session without processes has none.
func appendProcess(dst []byte, pid int, f stopFormat) []byte {
	if !f.multiprocess || pid <= 0 {
		return dst
	}
	return appendHexUint(append(dst, ";process:"...), uint64(pid))
}

// appendStop appends the stop reply for ev, fetching the registers to
// expedite and the thread's core from the target. Neither is essential: a
// thread whose registers cannot be read is reported without them.
func (s *Session) appendStop(dst []byte, ev inferior.Event) []byte {
	var rs *regs.Set
	core := -1
	name, named := "", false
	if threadStop(ev.Kind) {
		t := inferior.ThreadID{PID: ev.PID, TID: ev.TID}
		var err error
		if rs, err = s.t.Registers(t, false); err != nil {
			s.log.Debug("stop reply without registers", "thread", s.formatThread(t), "err", err)
			rs = nil
		}
		// lldb also wants the name, which comes with the core.
		cr, cheap := s.t.(CoreReader)
		if cheap && !s.dialect.lldb {
			if c, ok := cr.ThreadCore(t); ok {
				core = c
			}
		} else if n, c, ok := s.t.ThreadInfo(t); ok {
			name, named, core = n, true, c
		}
	}
	f := stopFormat{s.multiprocess, s.swbreak, s.hwbreak, s.dialect.native, s.cfg.Disable.TStop, s.cfg.Disable.TThread}
	dst = appendStopReply(dst, ev, f, rs, core)
	if f.sOnly && threadStop(ev.Kind) {
		return dst // an S reply carries nothing more
	}
	return s.appendLLDBStop(dst, ev, name, named)
}

// threadStop reports whether events of kind k are T replies: a thread
// stopped and can be examined.
func threadStop(k inferior.EventKind) bool {
	switch k {
	case inferior.EventExited, inferior.EventKilled, inferior.EventThreadExited, inferior.EventNoResumed:
		return false
	}
	return true
}

// recordStop makes ev the last stop, which '?' reports and whose thread
// the client now takes as the general thread.
func (s *Session) recordStop(ev inferior.Event) {
	s.last, s.hasLast = ev, true
	if ev.Kind == inferior.EventSignal && ev.Signal == int(unix.SIGINT) {
		s.interruptPending = false // answered (noteInterrupt)
	}
	switch {
	case threadStop(ev.Kind) && s.ns.on:
		// In non-stop mode the client selects threads itself.
	case threadStop(ev.Kind):
		if ev.TID > 0 {
			// The client assumes the general thread follows the event.
			s.general = inferior.ThreadID{PID: ev.PID, TID: ev.TID}
		}
	case ev.Kind == inferior.EventExited, ev.Kind == inferior.EventKilled:
		s.forgetSelections(ev.PID, inferior.All)
	case ev.Kind == inferior.EventThreadExited:
		s.forgetSelections(ev.PID, ev.TID)
	}
}

// dropSnapshots forgets the thread list and the qXfer document read in
// windows, which describe processes that changed.
func (s *Session) dropSnapshots() {
	s.xferKey, s.xferDoc, s.threadList = "", nil, nil
}

// lastStop returns the stop to report for '?': the last one if it was a
// thread's stop; else, while processes remain, a SIGTRAP stop of the
// first thread, which is how a freshly launched or attached process is
// reported; else the exit of the last process, or "W00" when there was
// none.
func (s *Session) lastStop() (inferior.Event, error) {
	if s.hasLast && threadStop(s.last.Kind) {
		return s.last, nil
	}
	procs := s.t.Processes()
	if len(procs) == 0 {
		if s.hasLast && (s.last.Kind == inferior.EventExited || s.last.Kind == inferior.EventKilled) {
			return s.last, nil
		}
		return inferior.Event{Kind: inferior.EventExited}, nil
	}
	ev, err := s.firstThreadStop(procs[0], int(unix.SIGTRAP))
	if err != nil {
		return inferior.Event{}, err
	}
	s.last, s.hasLast = ev, true
	return ev, nil
}

// haltReason answers '?' with the last stop.
func (s *Session) haltReason(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	if s.ns.on {
		return s.haltReasonNonStop()
	}
	ev, err := s.lastStop()
	if err != nil {
		return errorReply(err)
	}
	s.buf = s.appendStop(s.buf[:0], replayed(ev))
	return dataReply(s.buf)
}

// replayed returns ev as '?' reports it again: an optional event (fork,
// exec, syscall, thread creation), which the client has already handled,
// becomes a plain SIGTRAP stop of its thread.
func replayed(ev inferior.Event) inferior.Event {
	switch ev.Kind {
	case inferior.EventFork, inferior.EventVFork, inferior.EventVForkDone, inferior.EventExec, inferior.EventSyscallEntry, inferior.EventSyscallReturn, inferior.EventThreadCreated, inferior.EventClone:
		return inferior.Event{Kind: inferior.EventSignal, PID: ev.PID, TID: ev.TID, Signal: int(unix.SIGTRAP)}
	}
	return ev
}

// stopReason returns the reason: lldb is told for ev, or "".
func stopReason(ev inferior.Event) string {
	switch ev.Kind {
	case inferior.EventBreakpoint, inferior.EventHWBreakpoint:
		return "breakpoint"
	case inferior.EventWatchpoint:
		return "watchpoint"
	case inferior.EventStep:
		return "trace"
	case inferior.EventSignal:
		if ev.Signal != 0 {
			return "signal"
		}
	case inferior.EventExec:
		return "exec"
	}
	return ""
}

// stopDescription returns the description: lldb is told with a
// watchpoint reason: the watched address (decimal, as lldb-server
// writes it), which lldb matches to its watchpoint.
func stopDescription(ev inferior.Event) string {
	if ev.Kind != inferior.EventWatchpoint {
		return ""
	}
	return strconv.FormatUint(ev.HW.Addr, 10)
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
func (s *Session) appendLLDBStop(dst []byte, ev inferior.Event, name string, named bool) []byte {
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
		if rs, err := s.t.Registers(inferior.ThreadID{PID: ev.PID, TID: tid}, false); err == nil {
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
func (s *Session) threadInfoJSON(ev inferior.Event, name string, withRegs bool) lldbThreadInfo {
	t := inferior.ThreadID{PID: ev.PID, TID: ev.TID}
	info := lldbThreadInfo{TID: ev.TID, Reason: stopReason(ev), Desc: stopDescription(ev)}
	switch ev.Kind {
	case inferior.EventSignal:
		info.Signal = s.dialect.toWire(ev.Signal)
	default:
		info.Signal = s.dialect.toWire(int(unix.SIGTRAP))
	}
	if ev.Kind == inferior.EventSignal && ev.Signal == 0 {
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
func (s *Session) threadEvent(t inferior.ThreadID) inferior.Event {
	if s.hasLast && threadStop(s.last.Kind) && s.last.PID == t.PID && s.last.TID == t.TID {
		return replayed(s.last)
	}
	return inferior.Event{Kind: inferior.EventSignal, PID: t.PID, TID: t.TID}
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
		name, _, _ := s.t.ThreadInfo(inferior.ThreadID{PID: pid, TID: tid})
		infos = append(infos, s.threadInfoJSON(s.threadEvent(inferior.ThreadID{PID: pid, TID: tid}), name, true))
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
