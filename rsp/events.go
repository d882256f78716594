package rsp

import (
	"bytes"
	"fmt"
	"slices"
)

// Optional events, per the manual's "General Query Packets" (qSupported's
// fork-events, vfork-events, exec-events and no-resumed features,
// QThreadEvents, QCatchSyscalls) and "Stop Reply Packets" (the fork,
// vfork, vforkdone, exec, syscall_entry, syscall_return and create stop
// reasons, and the w and N replies).
//
// The target stops the program for these events only when the client
// asked: the session keeps what was negotiated in an EventOptions and
// hands it to the target (an EventTarget) after qSupported and after
// every QThreadEvents and QCatchSyscalls. gdb sends QCatchSyscalls:0 when
// the program stops and QCatchSyscalls:1 before it resumes again, so
// SetEventOptions must be cheap. A target that is not an EventTarget
// gets none of the packets: the features are not advertised.

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
	s.events = EventOptions{
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
