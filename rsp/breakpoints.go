package rsp

import (
	"bytes"
	"fmt"

	"procgdb/inferior"
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
// After the kind, gdb may send target-side conditions and commands (agent
// expression bytecode, see package agentexpr): ";X LEN,BYTES" once per
// condition, the conditions ORed, then ";cmds:PERSIST," and "X LEN,BYTES"
// once per command. gdb 13 writes the X items back to back
// ("X3,220127X3,220227"); gdbserver also accepts ';' between them.
// gdb sends conditions to a stub that advertises ConditionalBreakpoints,
// which procgdb does when its target evaluates them (a CondBreakpointer):
// a hit whose conditions are all false is then never reported, so gdb
// does not stop and step over the breakpoint itself. Each Z sets the
// breakpoint's conditions anew; a Z without any makes it unconditional.
// Commands are sent only to a stub that advertises BreakpointCommands,
// which procgdb does when its target runs them (a CmdBreakpointer): gdb
// sends them for a dprintf with `set dprintf-style agent` (and only where
// no other kind of breakpoint shares the address), and the target prints
// the text and lets the program go on. Each Z sets them anew too.
//
// lldb asks how many watchpoints it may set with qWatchpointSupportInfo.

// breakpointPackets are the dispatch-table rows of Z and z, and of lldb's
// qWatchpointSupportInfo.
func breakpointPackets() []entry {
	return []entry{
		{prefix: "Z", handle: (*Session).insertBreakpoint},
		{prefix: "z", handle: (*Session).removeBreakpoint},
		{prefix: "qWatchpointSupportInfo", handle: (*Session).watchpointSupportInfo},
	}
}

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
	// conds are the conditions' bytecodes; cmds the commands', which
	// persist past gdb's disconnection when persist is set.
	conds   [][]byte
	cmds    [][]byte
	persist bool
}

// parseBreakpoint decodes "type,addr,kind[;conditions][;cmds:...]".
func parseBreakpoint(b []byte) (breakpoint, error) {
	b, opts, hasOpts := bytes.Cut(b, []byte(";"))
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
	bp := breakpoint{typ: typ, addr: addr, kind: kind}
	if hasOpts {
		if err := bp.parseOptions(opts); err != nil {
			return breakpoint{}, err
		}
	}
	return bp, nil
}

// parseOptions decodes the conditions and commands after the kind.
func (bp *breakpoint) parseOptions(b []byte) error {
	inCmds := false
	for len(b) > 0 {
		switch {
		case b[0] == ';':
			b = b[1:]
		case b[0] == 'X':
			expr, rest, err := parseAgentExpr(b[1:])
			if err != nil {
				return err
			}
			if inCmds {
				bp.cmds = append(bp.cmds, expr)
			} else {
				bp.conds = append(bp.conds, expr)
			}
			b = rest
		case bytes.HasPrefix(b, []byte("cmds:")) && !inCmds:
			if len(b) < 7 || b[5] != '0' && b[5] != '1' || b[6] != ',' {
				return fmt.Errorf("%q: want cmds:PERSIST,: %w", b[:min(len(b), 7)], errMalformed)
			}
			bp.persist = b[5] == '1'
			inCmds = true
			b = b[7:]
			if len(b) == 0 || b[0] != 'X' {
				return fmt.Errorf("cmds: no command: %w", errMalformed)
			}
		default:
			return fmt.Errorf("option %q: %w", b[:min(len(b), 16)], errMalformed)
		}
	}
	return nil
}

// parseAgentExpr decodes "LEN,BYTES" (the length in bytes, the bytes in
// hex) at the start of b and returns the bytes and what follows them.
func parseAgentExpr(b []byte) (expr, rest []byte, err error) {
	field, rest, ok := bytes.Cut(b, []byte(","))
	if !ok {
		return nil, nil, fmt.Errorf("agent expression %q: want LEN,BYTES: %w", b[:min(len(b), 16)], errMalformed)
	}
	n, err := parseHexInt(field)
	if err != nil {
		return nil, nil, fmt.Errorf("agent expression length %q: %w", field, err)
	}
	if len(rest) < 2*n {
		return nil, nil, fmt.Errorf("agent expression of %d bytes: %d hex digits: %w", n, len(rest), errMalformed)
	}
	expr, err = decodeHex(make([]byte, 0, n), rest[:2*n])
	if err != nil {
		return nil, nil, fmt.Errorf("agent expression: %w", err)
	}
	return expr, rest[2*n:], nil
}

// appendBreakpoint encodes bp as parseBreakpoint decodes it, and as gdb
// writes it.
func appendBreakpoint(dst []byte, bp breakpoint) []byte {
	dst = append(appendHexUint(dst, uint64(bp.typ)), ',')
	dst = append(appendHexUint(dst, bp.addr), ',')
	dst = appendHexUint(dst, uint64(bp.kind))
	if len(bp.conds) > 0 {
		dst = append(dst, ';')
		for _, c := range bp.conds {
			dst = appendAgentExpr(dst, c)
		}
	}
	if len(bp.cmds) > 0 {
		persist := byte('0')
		if bp.persist {
			persist = '1'
		}
		dst = append(append(dst, ";cmds:"...), persist, ',')
		for _, c := range bp.cmds {
			dst = appendAgentExpr(dst, c)
		}
	}
	return dst
}

// appendAgentExpr encodes expr as "XLEN,BYTES".
func appendAgentExpr(dst, expr []byte) []byte {
	dst = appendHexUint(append(dst, 'X'), uint64(len(expr)))
	return appendHex(append(dst, ','), expr)
}

// insertBreakpoint answers Z: the breakpoint is inserted, then given the
// packet's conditions (none: unconditional) when the target evaluates
// them.
func (s *Session) insertBreakpoint(args []byte) reply {
	return s.breakpoint(args, Target.InsertBreakpoint, HWPointer.InsertHWPoint, true)
}

// removeBreakpoint answers z.
func (s *Session) removeBreakpoint(args []byte) reply {
	return s.breakpoint(args, Target.RemoveBreakpoint, HWPointer.RemoveHWPoint, false)
}

// breakpoint checks a Z or z request and applies sw (type 0) or hw
// (types 1 to 4) to the current process, and then, with conds, the
// conditions of a breakpoint (types 0 and 1).
func (s *Session) breakpoint(args []byte, sw func(Target, int, uint64) error,
	hw func(HWPointer, int, inferior.HWPoint) error, conds bool) reply {
	bp, err := parseBreakpoint(args)
	if err != nil {
		return errorReply(err)
	}
	hp, _ := s.t.(HWPointer)
	switch {
	case bp.typ > maxBreakpoint:
		return errorReply(fmt.Errorf("type %d: %w", bp.typ, errMalformed))
	case bp.typ != swBreakpoint && (hp == nil || !hp.HWSupport(inferior.HWKind(bp.typ))):
		return reply{}
	case bp.typ == swBreakpoint && bp.kind != swBreakpointKind,
		inferior.HWKind(bp.typ) == inferior.HWExec && bp.kind != swBreakpointKind,
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
		err = hw(hp, pid, inferior.HWPoint{Kind: inferior.HWKind(bp.typ), Addr: bp.addr, Len: bp.kind})
	}
	code := bp.typ == swBreakpoint || inferior.HWKind(bp.typ) == inferior.HWExec
	if cb, ok := s.t.(CondBreakpointer); ok && err == nil && conds && code {
		err = cb.SetBreakpointConditions(pid, bp.typ != swBreakpoint, bp.addr, bp.conds)
	}
	if cb, ok := s.t.(CmdBreakpointer); ok && err == nil && conds && code {
		err = cb.SetBreakpointCommands(pid, bp.typ != swBreakpoint, bp.addr, bp.cmds, bp.persist)
	}
	if err != nil {
		return errorReply(fmt.Errorf("breakpoint at %#x: %w", bp.addr, err))
	}
	return okReply
}

func isCondBreakpointer(s *Session) bool {
	_, ok := s.t.(CondBreakpointer)
	return ok
}

func isCmdBreakpointer(s *Session) bool {
	_, ok := s.t.(CmdBreakpointer)
	return ok
}

// watchpointSupportInfo answers qWatchpointSupportInfo with the number
// of debug registers, which lldb's watchpoints share; 0 without hardware
// points, so that lldb does not try Z2-Z4.
func (s *Session) watchpointSupportInfo([]byte) reply {
	n := 0
	if hp, ok := s.t.(HWPointer); ok && hp.HWSupport(inferior.HWWrite) {
		n = hp.HWSlots()
	}
	return textReply(fmt.Sprintf("num:%d;", n))
}
