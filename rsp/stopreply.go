package rsp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"procgdb/inferior"
)

// Stop replies as a client reads them: the inverse of appendStopReply
// (stop.go), plus what other stubs add. gdbserver and procgdb name the
// reason with the manual's keys (swbreak, watch, fork, ...); lldb-server
// names it with "reason:" (breakpoint, trace, watchpoint, signal,
// exception, ...) and "description:", and sends the thread's name. Keys
// that are hex numbers are expedited registers; other keys this parser
// does not know are ignored, as the manual asks.

// StopReply is a stop reply as a client reads it: the event, and what
// else the stub said about the stopped thread.
type StopReply struct {
	// Event is the event. Signal is the Linux number, 0 for a
	// signal Linux does not have (WireSignal has the stub's number).
	// A T reply without a stop reason is an inferior.EventSignal, SIGTRAP
	// included: only the client knows whether it asked for a step. PID
	// is inferior.Any when the stub did not name the process. HW.Kind is
	// 0 for a watchpoint whose kind the stub does not say (lldb-server).
	inferior.Event
	// WireSignal is the signal number as the stub sent it: gdb's
	// numbering, or Linux's for a stub that speaks native signals.
	WireSignal int
	// Registers are the expedited registers, by the stub's register
	// number (as p and P use it), in target byte order.
	Registers map[int][]byte
	// Core is the CPU the thread last ran on, -1 when not given.
	Core int
	// Name is the thread's name, when the stub sent it (lldb-server).
	Name string
	// Library reports that the program's shared libraries changed.
	Library bool
	// Reason and Description are lldb-server's words for the stop
	// ("exception", "SIGSEGV: invalid address (fault address: 0x0)").
	Reason, Description string
}

// ParseStopReply decodes a stop reply: T, S, W, X, w or N. native says
// signal numbers are Linux's (a stub that offered native-signals+), not
// gdb's.
func ParseStopReply(b []byte, native bool) (StopReply, error) {
	r := StopReply{Core: -1}
	if len(b) == 0 {
		return r, fmt.Errorf("empty stop reply: %w", errMalformed)
	}
	kind, args := b[0], b[1:]
	switch kind {
	case 'N':
		if len(args) != 0 {
			return r, fmt.Errorf("stop reply %.40q: %w", b, errMalformed)
		}
		r.Kind = inferior.EventNoResumed
		return r, nil
	case 'W', 'X', 'w':
		// gdbserver writes these without a leading zero ("W7").
		num, rest, _ := bytes.Cut(args, []byte(";"))
		code, err := parseHexUint(num)
		if err != nil || code > 0xff {
			return r, fmt.Errorf("stop reply %.40q: status %q: %w", b, num, errMalformed)
		}
		return r, r.parseExit(kind, int(code), rest, native)
	case 'S', 'T':
	default:
		return r, fmt.Errorf("stop reply %.40q: unknown kind %q: %w", b, kind, errMalformed)
	}
	if len(args) < 2 {
		return r, fmt.Errorf("stop reply %.40q: want two hex digits after %q: %w", b, kind, errMalformed)
	}
	code, err := parseHexByte(args[0], args[1])
	if err != nil {
		return r, fmt.Errorf("stop reply %.40q: %w", b, err)
	}
	r.Kind = inferior.EventSignal
	r.setSignal(int(code), native)
	if kind == 'S' {
		if len(args) != 2 {
			return r, fmt.Errorf("stop reply %.40q: %w", b, errMalformed)
		}
		return r, nil
	}
	return r, r.parseFields(args[2:])
}

// parseExit decodes the rest of a W, X or w reply, after its status and
// a ';': the process ("process:PID") of W and X, the thread of w.
func (r *StopReply) parseExit(kind byte, code int, rest []byte, native bool) error {
	switch kind {
	case 'W':
		r.Kind, r.ExitCode = inferior.EventExited, code
	case 'X':
		r.Kind = inferior.EventKilled
		r.setSignal(code, native)
	case 'w':
		id, err := parseThreadID(rest)
		if err != nil {
			return fmt.Errorf("stop reply w: %w", err)
		}
		r.Kind, r.ExitCode, r.PID, r.TID = inferior.EventThreadExited, code, id.PID, id.TID
		return nil
	}
	if rest == nil {
		return nil
	}
	pid, ok := bytes.CutPrefix(rest, []byte("process:"))
	if !ok {
		return fmt.Errorf("stop reply %c: %q: want process:PID: %w", kind, rest, errMalformed)
	}
	var err error
	if r.PID, err = parseHexInt(pid); err != nil {
		return fmt.Errorf("stop reply %c: process: %w", kind, err)
	}
	return nil
}

// setSignal records the stub's signal number and its Linux meaning.
func (r *StopReply) setSignal(wire int, native bool) {
	r.WireSignal = wire
	if native {
		r.Signal = wire
	} else if host, ok := hostSignal(wire); ok {
		r.Signal = host
	}
}

// parseFields decodes the "key:value;" fields of a T reply.
func (r *StopReply) parseFields(b []byte) error {
	for field := range bytes.SplitSeq(b, []byte(";")) {
		if len(field) == 0 {
			continue
		}
		key, val, ok := bytes.Cut(field, []byte(":"))
		if !ok {
			return fmt.Errorf("stop reply field %.40q: want key:value: %w", field, errMalformed)
		}
		if err := r.parseField(string(key), val); err != nil {
			return fmt.Errorf("stop reply field %.40q: %w", field, err)
		}
	}
	if r.Reason == "watchpoint" && r.Kind == inferior.EventWatchpoint {
		// lldb-server describes the watchpoint as "ADDR INDEX
		// [HIT-ADDR]" in decimal, and does not say its kind.
		if f := strings.Fields(r.Description); len(f) > 0 {
			r.HW.Addr, _ = strconv.ParseUint(f[0], 10, 64)
		}
	}
	return nil
}

// watchKinds maps the watchpoint stop reasons to the kind of watchpoint.
var watchKinds = map[string]inferior.HWKind{"watch": inferior.HWWrite, "rwatch": inferior.HWRead, "awatch": inferior.HWAccess}

// lldbReasons maps lldb-server's reason: values to stop kinds; the others
// (signal, exception, ...) leave the stop a signal.
var lldbReasons = map[string]inferior.EventKind{
	"breakpoint": inferior.EventBreakpoint,
	"trace":      inferior.EventStep,
	"watchpoint": inferior.EventWatchpoint,
	"fork":       inferior.EventFork,
	"vfork":      inferior.EventVFork,
	"vforkdone":  inferior.EventVForkDone,
	"exec":       inferior.EventExec,
}

func (r *StopReply) parseField(key string, val []byte) error {
	var err error
	switch key {
	case "thread":
		var id inferior.ThreadID
		if id, err = parseThreadID(val); err == nil {
			r.PID, r.TID = id.PID, id.TID
		}
	case "core":
		r.Core, err = parseHexInt(val)
	case "name":
		r.Name = string(val)
	case "hexname":
		r.Name, err = parseHexString(val)
	case "reason":
		r.Reason = string(val)
		if k, ok := lldbReasons[r.Reason]; ok {
			r.Kind = k
		}
	case "description":
		r.Description, err = parseHexString(val)
	case "watch", "rwatch", "awatch":
		r.Kind, r.HW.Kind = inferior.EventWatchpoint, watchKinds[key]
		r.HW.Addr, err = parseHexUint(val)
	case "swbreak":
		r.Kind = inferior.EventBreakpoint
	case "hwbreak":
		r.Kind = inferior.EventHWBreakpoint
	case "fork", "vfork":
		r.Kind = inferior.EventFork
		if key == "vfork" {
			r.Kind = inferior.EventVFork
		}
		var id inferior.ThreadID
		if id, err = parseThreadID(val); err == nil {
			r.ChildPID, r.ChildTID = id.PID, id.TID
		}
	case "vforkdone":
		r.Kind = inferior.EventVForkDone
	case "exec":
		r.Kind = inferior.EventExec
		r.ExecPath, err = parseHexString(val)
	case "syscall_entry", "syscall_return":
		r.Kind = inferior.EventSyscallEntry
		if key == "syscall_return" {
			r.Kind = inferior.EventSyscallReturn
		}
		r.Syscall, err = parseHexInt(val)
	case "create":
		r.Kind = inferior.EventThreadCreated
	case "library":
		r.Library = true
	default:
		if !isHexNumber(key) {
			return nil // a reason or extension this client does not know
		}
		var n int
		if n, err = parseHexInt([]byte(key)); err != nil {
			return err
		}
		var v []byte
		if v, err = decodeHex(nil, val); err != nil {
			return err
		}
		if r.Registers == nil {
			r.Registers = make(map[int][]byte)
		}
		r.Registers[n] = v
	}
	return err
}

// isHexNumber reports whether key is made of hex digits only: a register
// number rather than a named field.
func isHexNumber(key string) bool {
	for i := 0; i < len(key); i++ {
		if hexValue[key[i]] < 0 {
			return false
		}
	}
	return key != ""
}
