package rsp

import (
	"bytes"
	"fmt"
)

// Breakpoint packets, per the manual's "Packets" section:
// "Z type,addr,kind" inserts and "z type,addr,kind" removes a breakpoint
// or watchpoint. Type 0 is a software breakpoint, whose kind on x86 is the
// size of int3: 1. Types 1 to 4 (hardware breakpoints, write, read and
// access watchpoints) get the empty reply for now, which tells gdb they
// are unsupported, so it falls back to software watchpoints.
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
	return s.breakpoint(args, Target.InsertBreakpoint)
}

// removeBreakpoint answers z.
func (s *Session) removeBreakpoint(args []byte) reply {
	return s.breakpoint(args, Target.RemoveBreakpoint)
}

// breakpoint checks a Z or z request and applies op to the current
// process.
func (s *Session) breakpoint(args []byte, op func(Target, int, uint64) error) reply {
	bp, err := parseBreakpoint(args)
	if err != nil {
		return errorReply(err)
	}
	switch {
	case bp.typ > maxBreakpoint:
		return errorReply(fmt.Errorf("type %d: %w", bp.typ, errMalformed))
	case bp.typ != swBreakpoint:
		return reply{}
	case bp.kind != swBreakpointKind:
		return errorReply(fmt.Errorf("kind %d: %w", bp.kind, errUnsupported))
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	if err := op(s.t, pid, bp.addr); err != nil {
		return errorReply(fmt.Errorf("breakpoint at %#x: %w", bp.addr, err))
	}
	return okReply
}
