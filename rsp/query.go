package rsp

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// General query and set packets, per the manual's "General Query Packets"
// section: qSupported negotiation, QStartNoAckMode (see also "Packet
// Acknowledgment"), the thread queries qC, qfThreadInfo, qsThreadInfo,
// qThreadExtraInfo and T, qAttached, qSymbol, QPassSignals and
// QProgramSignals; and lldb's qHostInfo, qProcessInfo and
// qGDBServerVersion, answered in lldb's "key:value;" lists.

// queryPackets are the dispatch-table rows of the general queries, gdb's
// and lldb's.
func queryPackets() []entry {
	return []entry{
		{prefix: "qSupported", handle: (*Session).supported},
		{prefix: "QStartNoAckMode", feature: "QStartNoAckMode+", handle: (*Session).startNoAck},
		{prefix: "qC", enabled: qCOn, handle: (*Session).currentThreadQuery},
		{prefix: "qAttached", enabled: hasAttached, handle: (*Session).attached},
		{prefix: "qfThreadInfo", enabled: threadListOn, handle: (*Session).firstThreadInfo},
		{prefix: "qsThreadInfo", enabled: threadListOn, handle: (*Session).nextThreadInfo},
		{prefix: "T", handle: (*Session).threadAlive},
		{prefix: "qSymbol", handle: (*Session).symbol},
		{prefix: "QPassSignals:", feature: "QPassSignals+", handle: (*Session).passSignals},
		{prefix: "QProgramSignals:", feature: "QProgramSignals+", handle: (*Session).programSignals},
		{prefix: "qThreadExtraInfo", handle: (*Session).threadExtraInfo},
		{prefix: "qHostInfo", handle: (*Session).hostInfo},
		{prefix: "qProcessInfo", handle: (*Session).processInfo},
		{prefix: "qGDBServerVersion", handle: (*Session).serverVersion},
	}
}

func hasAttached(s *Session) bool { return s.cfg.Attached != nil || isLauncher(s) }

// clientFeatures are the features a client offered in qSupported, by
// name: "+", "-" or "?" as the client suffixed them, or "=value".
type clientFeatures map[string]string

// offered reports whether the client offered feature name as supported.
func (f clientFeatures) offered(name string) bool { return f[name] == "+" }

// parseQSupported decodes what follows "qSupported": nothing, or
// ":feature;feature...".
func parseQSupported(b []byte) (clientFeatures, error) {
	f := clientFeatures{}
	if len(b) == 0 {
		return f, nil
	}
	if b[0] != ':' {
		return nil, fmt.Errorf("%q: missing ':': %w", b, errMalformed)
	}
	for field := range bytes.SplitSeq(b[1:], []byte(";")) {
		if len(field) == 0 {
			continue
		}
		if name, value, ok := bytes.Cut(field, []byte("=")); ok {
			f[string(name)] = "=" + string(value)
			continue
		}
		switch last := field[len(field)-1]; last {
		case '+', '-', '?':
			f[string(field[:len(field)-1])] = string(last)
		default:
			return nil, fmt.Errorf("feature %q: no +, -, ? or =value: %w", field, errMalformed)
		}
	}
	return f, nil
}

// appendQSupported encodes f as parseQSupported decodes it, in name order.
func appendQSupported(dst []byte, f clientFeatures) []byte {
	for i, name := range slices.Sorted(maps.Keys(f)) {
		if i == 0 {
			dst = append(dst, ':')
		} else {
			dst = append(dst, ';')
		}
		dst = append(append(dst, name...), f[name]...)
	}
	return dst
}

// parseSignalList decodes "sig;sig..." (QPassSignals, QProgramSignals):
// gdb's signal numbers in hex, possibly none. gdb ends every number with
// ';', the last one included, so empty fields are skipped.
func parseSignalList(b []byte) ([]int, error) {
	var sigs []int
	for field := range bytes.SplitSeq(b, []byte(";")) {
		if len(field) == 0 {
			continue
		}
		sig, err := parseSignal(field)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// parsePID decodes an optional process id after a separator (":pid" for
// qAttached, ";pid" for D and vKill); ok is false when there is none.
func parsePID(b []byte, sep byte) (pid int, ok bool, err error) {
	if len(b) == 0 {
		return 0, false, nil
	}
	if b[0] != sep {
		return 0, false, fmt.Errorf("%q: want %q and a process id: %w", b, sep, errMalformed)
	}
	if pid, err = parseHexInt(b[1:]); err != nil {
		return 0, false, fmt.Errorf("process id %q: %w", b[1:], err)
	}
	return pid, true, nil
}

// supported answers qSupported. The features a client offers only change
// what procgdb says; the reply lists the packets of the dispatch table
// that this session offers, so it cannot claim what is not handled.
func (s *Session) supported(args []byte) reply {
	f, err := parseQSupported(args)
	if err != nil {
		return errorReply(err)
	}
	s.multiprocess = f.offered("multiprocess")
	s.swbreak = f.offered("swbreak")
	if hp, ok := s.t.(HWPointer); ok {
		s.hwbreak = f.offered("hwbreak") && hp.HWSupport(inferior.HWExec)
	}
	s.dialect.negotiate(f)
	s.negotiateEvents(f)

	dst := appendHexUint(append(s.buf[:0], "PacketSize="...), packetSize)
	for _, on := range []struct {
		feature string
		on      bool
	}{
		{"multiprocess+", s.multiprocess},
		{"swbreak+", s.swbreak},
		{"hwbreak+", s.hwbreak},
		{"error-message+", f.offered("error-message")},
		{"fork-events+", s.events.Fork},
		{"vfork-events+", s.events.VFork},
		{"exec-events+", s.events.Exec},
		{"no-resumed+", s.events.NoResumed},
		{"native-signals+", s.dialect.native},
		{"ConditionalBreakpoints+", isCondBreakpointer(s)},
		{"BreakpointCommands+", isCmdBreakpointer(s)},
	} {
		if on.on {
			dst = append(append(dst, ';'), on.feature...)
		}
	}
	for i := range s.packets {
		if e := &s.packets[i]; e.feature != "" && s.offered(e) {
			dst = append(append(dst, ';'), e.feature...)
		}
	}
	s.buf = dst
	return dataReply(dst)
}

// startNoAck answers QStartNoAckMode. Acknowledgments stop once its OK
// has been sent (and acknowledged by the client, as the manual asks).
func (s *Session) startNoAck(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	return reply{kind: replyOK, noAck: true}
}

// currentThreadQuery answers qC with the current thread.
func (s *Session) currentThreadQuery(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	s.buf = appendThreadID(append(s.buf[:0], "QC"...), t, s.multiprocess)
	return dataReply(s.buf)
}

// attached answers qAttached[:pid]: 1 if procgdb attached to the process,
// 0 if it launched it (and the client should kill it when it quits).
// Config.Attached knows; without it, a session with a Launcher knows the
// processes it attached to with vAttach.
func (s *Session) attached(args []byte) reply {
	pid, ok, err := parsePID(args, ':')
	if err != nil {
		return errorReply(err)
	}
	if !ok {
		if pid, err = s.currentProcess(); err != nil {
			return errorReply(err)
		}
	}
	if s.cfg.Attached != nil && s.cfg.Attached(pid) || s.cfg.Attached == nil && s.ext.attachedPIDs[pid] {
		return textReply("1")
	}
	return textReply("0")
}

// firstThreadInfo answers qfThreadInfo with the first threads of every
// process; nextThreadInfo answers qsThreadInfo with the rest.
func (s *Session) firstThreadInfo(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	s.threadList = s.threadList[:0]
	for _, pid := range s.t.Processes() {
		threads, err := s.t.Threads(pid)
		if err != nil {
			return errorReply(fmt.Errorf("threads of %d: %w", pid, err))
		}
		for _, tid := range threads {
			s.threadList = append(s.threadList, inferior.ThreadID{PID: pid, TID: tid})
		}
	}
	return s.threadInfo()
}

func (s *Session) nextThreadInfo(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	return s.threadInfo()
}

// threadInfo sends as many listed threads as fit in a packet, or "l"
// after the last.
func (s *Session) threadInfo() reply {
	if len(s.threadList) == 0 {
		return textReply("l")
	}
	// The longest thread id is "p" and two 8-digit numbers.
	const maxID = 1 + 8 + 1 + 8
	dst := append(s.buf[:0], 'm')
	n := 0
	for _, t := range s.threadList {
		if n > 0 {
			if len(dst)+1+maxID > packetSize {
				break
			}
			dst = append(dst, ',')
		}
		dst = appendThreadID(dst, t, s.multiprocess)
		n++
	}
	s.threadList = s.threadList[n:]
	s.buf = dst
	return dataReply(dst)
}

// threadAlive answers T: OK if the thread exists.
func (s *Session) threadAlive(args []byte) reply {
	t, err := parseThreadID(args)
	if err != nil {
		return errorReply(err)
	}
	if _, err := s.checkThread(t); err != nil {
		return errorReply(err)
	}
	return okReply
}

// threadExtraInfo answers qThreadExtraInfo,thread-id with the thread's
// name, hex-encoded, which gdb shows in `info threads` when it does not
// read qXfer:threads.
func (s *Session) threadExtraInfo(args []byte) reply {
	if len(args) == 0 || args[0] != ',' {
		return errorReply(fmt.Errorf("%q: want ',thread-id': %w", args, errMalformed))
	}
	t, err := parseThreadID(args[1:])
	if err != nil {
		return errorReply(err)
	}
	if t, err = s.checkThread(t); err == nil {
		t, err = s.pickThread(t)
	}
	if err != nil {
		return errorReply(err)
	}
	name, _, ok := s.t.ThreadInfo(t)
	if !ok {
		return errorReply(fmt.Errorf("%s: %w", s.formatThread(t), errUnknownThread))
	}
	s.buf = appendHex(s.buf[:0], []byte(name))
	return dataReply(s.buf)
}

// symbol answers qSymbol: procgdb never needs a symbol's address.
func (s *Session) symbol([]byte) reply { return okReply }

// passSignals answers QPassSignals: the target delivers these signals to
// the program without stopping. gdb's signals without a Linux counterpart
// cannot occur and are left out; each list replaces the one before, so a
// signal left out of it stops the program again.
func (s *Session) passSignals(args []byte) reply {
	sigs, err := parseSignalList(args)
	if err != nil {
		return errorReply(err)
	}
	s.t.SetPassSignals(s.dialect.passedSignals(sigs))
	return okReply
}

// programSignals answers QProgramSignals, which lists the signals the
// client lets the program receive. In all-stop mode procgdb delivers a
// signal only when the client resumes with it (C, S, vCont), so the list
// governs nothing yet; it is checked and acknowledged.
func (s *Session) programSignals(args []byte) reply {
	if _, err := parseSignalList(args); err != nil {
		return errorReply(err)
	}
	return okReply
}

// ProcessInfo is who a process belongs to, for qProcessInfo.
type ProcessInfo struct {
	PID, PPID int
	UID, GID  int // real ids
	EUID      int // effective ids
	EGID      int
}

// lldbTriple is the target triple lldb expects of a Linux x86-64 process.
const lldbTriple = "x86_64-pc-linux-gnu"

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
