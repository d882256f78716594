package rsp

import (
	"bytes"
	"fmt"
)

// Breakpoint packets, per the manual's "Packets" section:
// "Z type,addr,kind" inserts and "z type,addr,kind" removes a breakpoint
// or watchpoint. Type 0 is a software breakpoint, whose kind on x86 is the
// size of int3: 1. Types 1 to 4 are hardware breakpoints (kind 1) and
// write, read and access watchpoints (kind: the number of bytes watched),
// served by a target that is an HWPointer; a type the target does not
// support gets the empty reply, which makes gdb fall back to software
// breakpoints or watchpoints.
//
// Conditions and commands after the kind (";X...", ";cmds:...") are only
// sent to a stub that advertises ConditionalBreakpoints or
// BreakpointCommands, which procgdb does not; they are ignored.

// Breakpoint types.
const (
	swBreakpoint  = 0
	maxBreakpoint = 4
)

// swBreakpointKind is the only kind of x86 software breakpoint: one byte.
const swBreakpointKind = 1

// breakpoint is a Z or z request.
type breakpoint struct {
	typ  int
	addr uint64
	kind int
}

// parseBreakpoint decodes "type,addr,kind[;...]".
func parseBreakpoint(b []byte) (breakpoint, error) {
	b, _, _ = bytes.Cut(b, []byte(";"))
	fields := bytes.Split(b, []byte(","))
	if len(fields) != 3 {
		return breakpoint{}, fmt.Errorf("%q: want type,addr,kind: %w", b, errMalformed)
	}
	typ, err := parseHexInt(fields[0])
	if err != nil {
		return breakpoint{}, fmt.Errorf("type %q: %w", fields[0], err)
	}
	addr, err := parseHexUint(fields[1])
	if err != nil {
		return breakpoint{}, fmt.Errorf("address %q: %w", fields[1], err)
	}
	kind, err := parseHexInt(fields[2])
	if err != nil {
		return breakpoint{}, fmt.Errorf("kind %q: %w", fields[2], err)
	}
	return breakpoint{typ: typ, addr: addr, kind: kind}, nil
}

// appendBreakpoint encodes bp as parseBreakpoint decodes it.
func appendBreakpoint(dst []byte, bp breakpoint) []byte {
	dst = append(appendHexUint(dst, uint64(bp.typ)), ',')
	dst = append(appendHexUint(dst, bp.addr), ',')
	return appendHexUint(dst, uint64(bp.kind))
}

// insertBreakpoint answers Z.
func (s *Session) insertBreakpoint(args []byte) reply {
	return s.breakpoint(args, Target.InsertBreakpoint, HWPointer.InsertHWPoint)
}

// removeBreakpoint answers z.
func (s *Session) removeBreakpoint(args []byte) reply {
	return s.breakpoint(args, Target.RemoveBreakpoint, HWPointer.RemoveHWPoint)
}

// breakpoint checks a Z or z request and applies sw (type 0) or hw
// (types 1 to 4) to the current process.
func (s *Session) breakpoint(args []byte, sw func(Target, int, uint64) error,
	hw func(HWPointer, int, HWKind, uint64, int) error) reply {
	bp, err := parseBreakpoint(args)
	if err != nil {
		return errorReply(err)
	}
	hp, _ := s.t.(HWPointer)
	switch {
	case bp.typ > maxBreakpoint:
		return errorReply(fmt.Errorf("type %d: %w", bp.typ, errMalformed))
	case bp.typ != swBreakpoint && (hp == nil || !hp.HWSupport(HWKind(bp.typ))):
		return reply{}
	case bp.typ == swBreakpoint && bp.kind != swBreakpointKind,
		HWKind(bp.typ) == HWBreakpoint && bp.kind != swBreakpointKind,
		bp.kind <= 0:
		return errorReply(fmt.Errorf("kind %d: %w", bp.kind, errUnsupported))
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	if bp.typ == swBreakpoint {
		err = sw(s.t, pid, bp.addr)
	} else {
		err = hw(hp, pid, HWKind(bp.typ), bp.addr, bp.kind)
	}
	if err != nil {
		return errorReply(fmt.Errorf("breakpoint at %#x: %w", bp.addr, err))
	}
	return okReply
}
