package rsp

import (
	"bytes"
	"fmt"
	"slices"

	"procgdb/inferior"
)

// Optional events, per the manual's "General Query Packets" (qSupported's
// fork-events, vfork-events, exec-events and no-resumed features,
// QThreadEvents, QThreadOptions, QCatchSyscalls) and "Stop Reply Packets"
// (the fork, vfork, vforkdone, exec, syscall_entry, syscall_return, create
// and clone stop reasons, and the w and N replies).
//
// The target stops the program for these events only when the client
// asked: the session keeps what was negotiated in an inferior.EventOptions and
// hands it to the target (an EventTarget) after qSupported and after
// every QThreadEvents and QCatchSyscalls. gdb sends QCatchSyscalls:0 when
// the program stops and QCatchSyscalls:1 before it resumes again, so
// SetEventOptions must be cheap. A target that is not an EventTarget
// gets none of the packets: the features are not advertised.
//
// QThreadOptions asks for clone and exit events per thread: gdb 15 turns
// them on for the thread it steps over a breakpoint, so that it hears
// when that thread exits or makes a thread. The options live with the
// threads in the target (a ThreadOptioner), which starts new threads
// without any; the session only resolves the packet's thread ids.

// eventPackets are the dispatch-table rows of the optional events.
func eventPackets() []entry {
	return []entry{
		{prefix: "QThreadEvents:", feature: "QThreadEvents+", enabled: isEventTarget, handle: (*Session).threadEvents},
		{prefix: "QCatchSyscalls:", feature: "QCatchSyscalls+", enabled: isEventTarget, handle: (*Session).catchSyscallsPacket},
		{prefix: "QThreadOptions", feature: "QThreadOptions=3", enabled: isThreadOptioner, handle: (*Session).threadOptionsPacket},
	}
}

func isEventTarget(s *Session) bool {
	_, ok := s.t.(EventTarget)
	return ok
}

// applyEvents hands the session's event options to the target.
func (s *Session) applyEvents() {
	if et, ok := s.t.(EventTarget); ok {
		o := s.events
		o.Syscalls = slices.Clone(o.Syscalls)
		et.SetEventOptions(o)
	}
}

// negotiateEvents sets the events from what the client offered in
// qSupported; a new negotiation also turns thread events and syscall
// catching off.
func (s *Session) negotiateEvents(f clientFeatures) {
	on := isEventTarget(s)
	s.events = inferior.EventOptions{
		Fork:      on && f.offered("fork-events"),
		VFork:     on && f.offered("vfork-events"),
		Exec:      on && f.offered("exec-events"),
		NoResumed: on && f.offered("no-resumed"),
	}
	s.applyEvents()
}

// catchSyscalls is a QCatchSyscalls request.
type catchSyscalls struct {
	on       bool
	syscalls []int // with on: the system calls to catch, none for all
}

// parseCatchSyscalls decodes what follows "QCatchSyscalls:": "0", "1", or
// "1;sysno;sysno..." with the numbers in hex.
func parseCatchSyscalls(b []byte) (catchSyscalls, error) {
	flag, list, hasList := bytes.Cut(b, []byte(";"))
	on, err := parseFlag(flag)
	if err != nil {
		return catchSyscalls{}, err
	}
	if !on {
		if hasList {
			return catchSyscalls{}, fmt.Errorf("%q: system calls after 0: %w", b, errMalformed)
		}
		return catchSyscalls{}, nil
	}
	c := catchSyscalls{on: true}
	if !hasList {
		return c, nil
	}
	for field := range bytes.SplitSeq(list, []byte(";")) {
		n, err := parseHexInt(field)
		if err != nil {
			return catchSyscalls{}, fmt.Errorf("system call %q: %w", field, err)
		}
		c.syscalls = append(c.syscalls, n)
	}
	return c, nil
}

// appendCatchSyscalls encodes c as parseCatchSyscalls decodes it.
func appendCatchSyscalls(dst []byte, c catchSyscalls) []byte {
	if !c.on {
		return append(dst, '0')
	}
	dst = append(dst, '1')
	for _, n := range c.syscalls {
		dst = appendHexUint(append(dst, ';'), uint64(n))
	}
	return dst
}

// threadEvents answers QThreadEvents:0 and QThreadEvents:1.
func (s *Session) threadEvents(args []byte) reply {
	on, err := parseFlag(args)
	if err != nil {
		return errorReply(err)
	}
	s.events.ThreadEvents = on
	s.applyEvents()
	return okReply
}

// catchSyscallsPacket answers QCatchSyscalls.
func (s *Session) catchSyscallsPacket(args []byte) reply {
	c, err := parseCatchSyscalls(args)
	if err != nil {
		return errorReply(err)
	}
	s.events.CatchSyscalls, s.events.Syscalls = c.on, c.syscalls
	s.applyEvents()
	return okReply
}

// supportedThreadOptions are the thread options procgdb honours; the
// qSupported feature QThreadOptions=3 says so.
const supportedThreadOptions = inferior.ThreadClone | inferior.ThreadExit

func isThreadOptioner(s *Session) bool {
	_, ok := s.t.(ThreadOptioner)
	return ok
}

// threadOption is one ";OPTIONS[:THREAD-ID]" of a QThreadOptions packet.
// A missing thread id is every thread: inferior.ThreadID{PID: inferior.All, TID: inferior.All}.
type threadOption struct {
	options inferior.ThreadOptions
	thread  inferior.ThreadID
}

// matches reports whether the option applies to thread tid of process pid.
func (o threadOption) matches(pid, tid int) bool {
	return (o.thread.PID == inferior.All || o.thread.PID == inferior.Any || o.thread.PID == pid) &&
		(o.thread.TID == inferior.All || o.thread.TID == tid)
}

// parseThreadOptions decodes what follows "QThreadOptions": nothing, or
// ";OPTIONS[:THREAD-ID]" repeated, OPTIONS in hex. A thread id of 0 ("any
// thread") names no thread and is refused.
func parseThreadOptions(b []byte) ([]threadOption, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != ';' {
		return nil, fmt.Errorf("%q: want ';': %w", b, errMalformed)
	}
	var opts []threadOption
	for field := range bytes.SplitSeq(b[1:], []byte(";")) {
		hex, id, hasID := bytes.Cut(field, []byte(":"))
		v, err := parseHexUint(hex)
		if err != nil {
			return nil, fmt.Errorf("options %q: %w", hex, err)
		}
		o := threadOption{options: inferior.ThreadOptions(v), thread: inferior.ThreadID{PID: inferior.All, TID: inferior.All}}
		if hasID {
			if o.thread, err = parseThreadID(id); err != nil {
				return nil, err
			}
			if o.thread.TID == inferior.Any {
				return nil, fmt.Errorf("thread id %q names no thread: %w", id, errMalformed)
			}
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// appendThreadOptions encodes opts as parseThreadOptions decodes them.
func appendThreadOptions(dst []byte, opts []threadOption) []byte {
	for _, o := range opts {
		dst = appendHexUint(append(dst, ';'), uint64(o.options))
		if o.thread != (inferior.ThreadID{PID: inferior.All, TID: inferior.All}) {
			dst = appendThreadID(append(dst, ':'), o.thread, true)
		}
	}
	return dst
}

// threadOptionsPacket answers QThreadOptions: each thread gets the options
// of the last entry that names it; threads that none names keep theirs.
// Options procgdb does not honour are refused, and nothing changes.
func (s *Session) threadOptionsPacket(args []byte) reply {
	opts, err := parseThreadOptions(args)
	if err != nil {
		return errorReply(err)
	}
	for _, o := range opts {
		if extra := o.options &^ supportedThreadOptions; extra != 0 {
			return errorReply(fmt.Errorf("options %#x: %w", uint64(extra), errUnsupported))
		}
	}
	if len(opts) == 0 {
		return okReply
	}
	err = s.eachThread(func(t inferior.ThreadID) error {
		for i := len(opts) - 1; i >= 0; i-- {
			if opts[i].matches(t.PID, t.TID) {
				return s.t.(ThreadOptioner).SetThreadOptions(t, opts[i].options)
			}
		}
		return nil
	})
	if err != nil {
		return errorReply(err)
	}
	return okReply
}

// clearThreadOptions gives every thread no options, as a new client
// expects.
func (s *Session) clearThreadOptions() {
	to, ok := s.t.(ThreadOptioner)
	if !ok {
		return
	}
	err := s.eachThread(func(t inferior.ThreadID) error { return to.SetThreadOptions(t, 0) })
	if err != nil {
		s.log.Warn("clear thread options", "err", err)
	}
}

// eachThread calls fn for every thread of every process, stopping at the
// first error.
func (s *Session) eachThread(fn func(inferior.ThreadID) error) error {
	for _, pid := range s.t.Processes() {
		threads, err := s.t.Threads(pid)
		if err != nil {
			return fmt.Errorf("threads of %d: %w", pid, err)
		}
		for _, tid := range threads {
			if err := fn(inferior.ThreadID{PID: pid, TID: tid}); err != nil {
				return err
			}
		}
	}
	return nil
}
