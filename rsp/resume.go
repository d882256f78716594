package rsp

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"procgdb/inferior"
	"procgdb/regs"
)

// Resume packets, per the manual's "Packets" section: "vCont;action[:thread-id]..."
// with actions c, C sig, s, S sig and r start,end (range stepping: step
// while the PC stays in [start, end); vCont? lists them), the older
// c [addr], C sig[;addr], s [addr] and S sig[;addr] that act on the Hc
// thread, and "H op thread-id" that selects the thread for g-like (Hg)
// and c-like (Hc) packets. Every resume becomes one list of inferior.Action,
// so the target sees vCont and the old packets alike.

// resumePackets are the dispatch-table rows of the resume packets and H.
func resumePackets() []entry {
	return []entry{
		{prefix: "vCont?", feature: "vContSupported+", enabled: vContOn, handle: (*Session).vContSupported},
		{prefix: "vCont", enabled: vContOn, handle: (*Session).vCont},
		{prefix: "c", handle: (*Session).continueLegacy},
		{prefix: "C", handle: (*Session).continueSignalLegacy},
		{prefix: "s", handle: (*Session).stepLegacy},
		{prefix: "S", handle: (*Session).stepSignalLegacy},
		{prefix: "H", handle: (*Session).setThread},
	}
}

// vContAction is one action of a vCont packet, in the client's terms.
type vContAction struct {
	step   bool
	signal int // gdb's signal number, 0 for none
	// ranged marks an r action (step is set too), whose range is
	// [rangeStart, rangeEnd).
	ranged               bool
	rangeStart, rangeEnd uint64
	// stop marks a t action (non-stop mode: stop the thread).
	stop bool
	// thread is the thread id after the action; {inferior.All, inferior.All}
	// when the action names none.
	thread inferior.ThreadID
}

// parseVCont decodes what follows "vCont": ";action[:thread-id]" repeated.
func parseVCont(b []byte) ([]vContAction, error) {
	if len(b) == 0 || b[0] != ';' {
		return nil, fmt.Errorf("%q: missing ';action': %w", b, errMalformed)
	}
	var actions []vContAction
	for field := range bytes.SplitSeq(b[1:], []byte(";")) {
		a, err := parseVContAction(field)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", len(actions)+1, err)
		}
		actions = append(actions, a)
	}
	return actions, nil
}

func parseVContAction(b []byte) (vContAction, error) {
	act, thread, hasThread := bytes.Cut(b, []byte(":"))
	if len(act) == 0 {
		return vContAction{}, fmt.Errorf("empty action: %w", errMalformed)
	}
	a := vContAction{thread: inferior.ThreadID{PID: inferior.All, TID: inferior.All}}
	switch act[0] {
	case 'c', 's', 't':
		if len(act) != 1 {
			return vContAction{}, fmt.Errorf("%q: %w", act, errMalformed)
		}
		a.stop = act[0] == 't'
	case 'C', 'S':
		sig, err := parseSignal(act[1:])
		if err != nil {
			return vContAction{}, fmt.Errorf("%q: %w", act, err)
		}
		a.signal = sig
	case 'r':
		start, end, ok := bytes.Cut(act[1:], []byte(","))
		if !ok {
			return vContAction{}, fmt.Errorf("%q: want rSTART,END: %w", act, errMalformed)
		}
		a.ranged = true
		var err error
		if a.rangeStart, err = parseHexUint(start); err != nil {
			return vContAction{}, fmt.Errorf("range start %q: %w", start, err)
		}
		if a.rangeEnd, err = parseHexUint(end); err != nil {
			return vContAction{}, fmt.Errorf("range end %q: %w", end, err)
		}
	default:
		return vContAction{}, fmt.Errorf("action %q: %w", act, errUnsupported)
	}
	a.step = act[0] == 's' || act[0] == 'S' || act[0] == 'r'
	if hasThread {
		t, err := parseThreadID(thread)
		if err != nil {
			return vContAction{}, err
		}
		a.thread = t
	}
	return a, nil
}

// appendVCont encodes actions as parseVCont decodes them.
func appendVCont(dst []byte, actions []vContAction) []byte {
	for _, a := range actions {
		dst = append(dst, ';')
		switch {
		case a.stop:
			dst = append(dst, 't')
		case a.ranged:
			dst = append(appendHexUint(append(dst, 'r'), a.rangeStart), ',')
			dst = appendHexUint(dst, a.rangeEnd)
		case a.step && a.signal != 0:
			dst = appendHexByte(append(dst, 'S'), byte(a.signal))
		case a.step:
			dst = append(dst, 's')
		case a.signal != 0:
			dst = appendHexByte(append(dst, 'C'), byte(a.signal))
		default:
			dst = append(dst, 'c')
		}
		dst = appendThreadID(append(dst, ':'), a.thread, true)
	}
	return dst
}

// parseSignal decodes a signal number (gdb's numbering) of up to 8 bits.
func parseSignal(b []byte) (int, error) {
	v, err := parseHexUint(b)
	if err != nil {
		return 0, fmt.Errorf("signal %q: %w", b, err)
	}
	if v > 0xff {
		return 0, fmt.Errorf("signal %q: %w", b, errHexOverflow)
	}
	return int(v), nil
}

// legacyResume is a c, C, s or S request.
type legacyResume struct {
	signal  int // gdb's signal number, 0 for none
	addr    uint64
	hasAddr bool // resume at addr rather than where the thread stopped
}

// parseLegacyResume decodes "[addr]" (c, s) or, when withSignal is set,
// "sig[;addr]" (C, S).
func parseLegacyResume(b []byte, withSignal bool) (legacyResume, error) {
	var r legacyResume
	addr := b
	if withSignal {
		sig, rest, hasAddr := bytes.Cut(b, []byte(";"))
		var err error
		if r.signal, err = parseSignal(sig); err != nil {
			return legacyResume{}, err
		}
		if !hasAddr {
			return r, nil
		}
		addr = rest
	} else if len(b) == 0 {
		return r, nil
	}
	v, err := parseHexUint(addr)
	if err != nil {
		return legacyResume{}, fmt.Errorf("address %q: %w", addr, err)
	}
	r.addr, r.hasAddr = v, true
	return r, nil
}

// setThread is an H request.
type setThread struct {
	op     byte // 'g' (registers, memory) or 'c' (legacy resume)
	thread inferior.ThreadID
}

// parseSetThread decodes "op thread-id".
func parseSetThread(b []byte) (setThread, error) {
	if len(b) == 0 || (b[0] != 'g' && b[0] != 'c') {
		return setThread{}, fmt.Errorf("%q: operation is not g or c: %w", b, errMalformed)
	}
	t, err := parseThreadID(b[1:])
	if err != nil {
		return setThread{}, err
	}
	return setThread{op: b[0], thread: t}, nil
}

// vContSupported answers vCont? with the actions vCont handles.
func (s *Session) vContSupported(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	if isNonStopper(s) {
		return textReply("vCont;c;C;s;S;t;r")
	}
	return textReply("vCont;c;C;s;S;r")
}

// vCont answers vCont;... by resuming; the reply is the stop.
func (s *Session) vCont(args []byte) reply {
	actions, err := parseVCont(args)
	if err != nil {
		return errorReply(err)
	}
	out := make([]inferior.Action, 0, len(actions))
	for _, a := range actions {
		if a.stop {
			// Stops act at once; the resumes in the same packet follow.
			if !s.ns.on {
				return errorReply(fmt.Errorf("action t: %w", errAllStopMode))
			}
			t, err := s.checkThread(a.thread)
			if err == nil {
				err = s.stopThreads(t)
			}
			if err != nil {
				return errorReply(err)
			}
			continue
		}
		t, err := s.checkThread(a.thread)
		if err == nil && t.TID == inferior.Any {
			t, err = s.pickThread(t)
		}
		if err != nil {
			return errorReply(err)
		}
		ra, err := resumeAction(a.step, s.dialect.fromWire(a.signal), t)
		if err != nil {
			return errorReply(err)
		}
		ra.RangeStart, ra.RangeEnd = a.rangeStart, a.rangeEnd
		out = append(out, ra)
	}
	if len(out) == 0 {
		return okReply // t actions alone
	}
	return reply{kind: replyResume, actions: out}
}

// resumeAction builds the target's action. sig is the client's signal
// number as the dialect translated it (gdb's numbering, or Linux's).
func resumeAction(step bool, sig signalNumber, t inferior.ThreadID) (inferior.Action, error) {
	a := inferior.Action{Kind: inferior.Continue, PID: t.PID, TID: t.TID}
	if step {
		a.Kind = inferior.Step
	}
	if sig.wire != 0 {
		if !sig.ok {
			return inferior.Action{}, fmt.Errorf("signal %d: %w", sig.wire, errUnknownSignal)
		}
		a.Signal = sig.host
	}
	return a, nil
}

func (s *Session) continueLegacy(args []byte) reply       { return s.resumeLegacy(args, false, false) }
func (s *Session) continueSignalLegacy(args []byte) reply { return s.resumeLegacy(args, false, true) }
func (s *Session) stepLegacy(args []byte) reply           { return s.resumeLegacy(args, true, false) }
func (s *Session) stepSignalLegacy(args []byte) reply     { return s.resumeLegacy(args, true, true) }

// resumeLegacy answers c, C, s and S. When Hc names one thread, only that
// thread runs (or steps). Otherwise the current thread steps or gets the
// signal, and every other thread continues.
func (s *Session) resumeLegacy(args []byte, step, withSignal bool) reply {
	r, err := parseLegacyResume(args, withSignal)
	if err != nil {
		return errorReply(err)
	}
	t := s.cont
	if t.TID <= 0 {
		if t, err = s.currentThread(); err != nil {
			return errorReply(err)
		}
	}
	if r.hasAddr {
		if err := s.setPC(t, r.addr); err != nil {
			return errorReply(err)
		}
	}
	a, err := resumeAction(step, s.dialect.fromWire(r.signal), t)
	if err != nil {
		return errorReply(err)
	}
	var actions []inferior.Action
	if s.cont.TID > 0 || step || r.signal != 0 {
		actions = append(actions, a)
	}
	if s.cont.TID <= 0 {
		actions = append(actions, inferior.Action{Kind: inferior.Continue, PID: inferior.All, TID: inferior.All})
	}
	return reply{kind: replyResume, actions: actions}
}

// setPC moves thread t to addr before it resumes.
func (s *Session) setPC(t inferior.ThreadID, addr uint64) error {
	rs, err := s.t.Registers(t, false)
	if err != nil {
		return fmt.Errorf("registers of %s: %w", s.formatThread(t), err)
	}
	if err := rs.SetRegister(regs.RIP, binary.LittleEndian.AppendUint64(nil, addr)); err != nil {
		return err
	}
	if err := s.t.SetRegisters(t, rs); err != nil {
		return fmt.Errorf("set registers of %s: %w", s.formatThread(t), err)
	}
	return nil
}

// setThread answers H.
func (s *Session) setThread(args []byte) reply {
	h, err := parseSetThread(args)
	if err != nil {
		return errorReply(err)
	}
	t, err := s.checkThread(h.thread)
	if err != nil {
		return errorReply(err)
	}
	if h.op == 'g' {
		s.general = t
	} else {
		s.cont = t
	}
	return okReply
}
