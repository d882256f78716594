package rsp

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

func TestParseStopReply(t *testing.T) {
	sigtrap := int(unix.SIGTRAP)
	tests := []struct {
		name   string
		in     string
		native bool
		want   StopReply
	}{
		{
			name: "gdbserver's first stop",
			in:   "T0506:0000000000000000;07:f0e7ffffff7f0000;10:704bfef7ff7f0000;thread:p48f4.48f4;core:1;",
			want: StopReply{
				Event:      inferior.Event{Kind: inferior.EventSignal, PID: 0x48f4, TID: 0x48f4, Signal: sigtrap},
				WireSignal: 5,
				Registers: map[int][]byte{
					6:    make([]byte, 8),
					7:    {0xf0, 0xe7, 0xff, 0xff, 0xff, 0x7f, 0, 0},
					0x10: {0x70, 0x4b, 0xfe, 0xf7, 0xff, 0x7f, 0, 0},
				},
				Core: 1,
			},
		},
		{
			name:   "lldb-server's first stop",
			in:     "T13thread:48fc;name:basic;10:704bfef7ff7f0000;reason:signal;",
			native: true,
			want: StopReply{
				Event:      inferior.Event{Kind: inferior.EventSignal, TID: 0x48fc, Signal: int(unix.SIGSTOP)},
				WireSignal: 0x13,
				Registers:  map[int][]byte{0x10: {0x70, 0x4b, 0xfe, 0xf7, 0xff, 0x7f, 0, 0}},
				Core:       -1, Name: "basic", Reason: "signal",
			},
		},
		{
			name:   "lldb-server's watchpoint",
			in:     "T05thread:10;reason:watchpoint;description:313034383537373634203020313034383537373634;",
			native: true,
			want: StopReply{
				Event:      inferior.Event{Kind: inferior.EventWatchpoint, TID: 0x10, Signal: sigtrap, HW: inferior.HWPoint{Addr: 104857764}},
				WireSignal: 5, Core: -1, Reason: "watchpoint", Description: "104857764 0 104857764",
			},
		},
		{
			name:   "lldb-server's step",
			in:     "T05thread:10;hexname:6120623b;reason:trace;",
			native: true,
			want: StopReply{
				Event:      inferior.Event{Kind: inferior.EventStep, TID: 0x10, Signal: sigtrap},
				WireSignal: 5, Core: -1, Name: "a b;", Reason: "trace",
			},
		},
		{
			name: "a signal gdb has and Linux lacks",
			in:   "T07thread:p1.1;",
			want: StopReply{Event: inferior.Event{Kind: inferior.EventSignal, PID: 1, TID: 1}, WireSignal: 7, Core: -1},
		},
		{
			name: "an unknown reason is ignored, library is kept",
			in:   "T05thread:p1.2;replaylog:begin;library:;",
			want: StopReply{Event: inferior.Event{Kind: inferior.EventSignal, PID: 1, TID: 2, Signal: sigtrap}, WireSignal: 5, Core: -1, Library: true},
		},
		{
			name: "the old S reply",
			in:   "S0b",
			want: StopReply{Event: inferior.Event{Kind: inferior.EventSignal, Signal: int(unix.SIGSEGV)}, WireSignal: 11, Core: -1},
		},
		{
			name: "gdbserver's exit",
			in:   "W7;process:38f0",
			want: StopReply{Event: inferior.Event{Kind: inferior.EventExited, PID: 0x38f0, ExitCode: 7}, Core: -1},
		},
		{
			name: "exit without a process",
			in:   "W07",
			want: StopReply{Event: inferior.Event{Kind: inferior.EventExited, ExitCode: 7}, Core: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStopReply([]byte(tt.in), tt.native)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseStopReply(%q) =\n%+v\nwant\n%+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseStopReplyErrors(t *testing.T) {
	for _, in := range []string{
		"", "T", "T5", "Tzz", "N1", "S05;", "W07;proc:1", "W07;process:x", "W", "W100", "X;",
		"w00", "w00;x", "T05thread", "T05thread:zz;", "T05watch:;", "T0510:abc;",
		"T05exec:6;", "T05core:-1;", "Q05",
	} {
		if r, err := ParseStopReply([]byte(in), false); !errors.Is(err, errMalformed) && !isHexError(err) {
			t.Errorf("ParseStopReply(%q) = %+v, %v; want a malformed error", in, r, err)
		}
	}
}

// TestStopReplyRoundTrip parses what the session sends for every kind of
// event, in every format a client can negotiate, and gets the event back
// as far as the format can say it.
func TestStopReplyRoundTrip(t *testing.T) {
	events := []inferior.Event{
		{Kind: inferior.EventSignal, PID: 0x10, TID: 0x11, Signal: int(unix.SIGUSR1)},
		{Kind: inferior.EventSignal, PID: 0x10, TID: 0x11, Signal: 35},
		{Kind: inferior.EventBreakpoint, PID: 0x10, TID: 0x11},
		{Kind: inferior.EventHWBreakpoint, PID: 0x10, TID: 0x11},
		{Kind: inferior.EventStep, PID: 0x10, TID: 0x11},
		{Kind: inferior.EventWatchpoint, PID: 0x10, TID: 0x11, HW: inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040}},
		{Kind: inferior.EventWatchpoint, PID: 0x10, TID: 0x11, HW: inferior.HWPoint{Kind: inferior.HWRead, Addr: 0x601040}},
		{Kind: inferior.EventWatchpoint, PID: 0x10, TID: 0x11, HW: inferior.HWPoint{Kind: inferior.HWAccess, Addr: 0x601040}},
		{Kind: inferior.EventExited, PID: 0x10, ExitCode: 7},
		{Kind: inferior.EventKilled, PID: 0x10, Signal: int(unix.SIGKILL)},
		{Kind: inferior.EventFork, PID: 0x10, TID: 0x11, ChildPID: 0x20, ChildTID: 0x20},
		{Kind: inferior.EventVFork, PID: 0x10, TID: 0x11, ChildPID: 0x20, ChildTID: 0x20},
		{Kind: inferior.EventVForkDone, PID: 0x10, TID: 0x11},
		{Kind: inferior.EventExec, PID: 0x10, TID: 0x10, ExecPath: "/bin/true"},
		{Kind: inferior.EventSyscallEntry, PID: 0x10, TID: 0x11, Syscall: 231},
		{Kind: inferior.EventSyscallReturn, PID: 0x10, TID: 0x11, Syscall: 0},
		{Kind: inferior.EventThreadCreated, PID: 0x10, TID: 0x12},
		{Kind: inferior.EventThreadExited, PID: 0x10, TID: 0x12, ExitCode: 3},
		{Kind: inferior.EventNoResumed},
	}
	for _, f := range []stopFormat{
		{multiprocess: true, swbreak: true, hwbreak: true},
		{},
		{native: true},
	} {
		for _, ev := range events {
			b := appendStopReply(nil, ev, f, testRegs(), 2)
			got, err := ParseStopReply(b, f.native)
			if err != nil {
				t.Errorf("%+v: ParseStopReply(%q): %v", f, b, err)
				continue
			}
			if got.Event != said(ev, f) {
				t.Errorf("%+v: ParseStopReply(%q) = %+v, want %+v", f, b, got.Event, said(ev, f))
			}
			if threadStop(ev.Kind) && (got.Core != 2 || len(got.Registers) != len(expedited)) {
				t.Errorf("%+v: ParseStopReply(%q): core %d, registers %x", f, b, got.Core, got.Registers)
			}
		}
	}
}

// said returns ev as a stop reply in format f tells it.
func said(ev inferior.Event, f stopFormat) inferior.Event {
	switch {
	case ev.Kind == inferior.EventStep,
		ev.Kind == inferior.EventBreakpoint && !f.swbreak,
		ev.Kind == inferior.EventHWBreakpoint && !f.hwbreak:
		ev.Kind, ev.Signal = inferior.EventSignal, int(unix.SIGTRAP)
	case threadStop(ev.Kind) && ev.Kind != inferior.EventSignal:
		ev.Signal = int(unix.SIGTRAP)
	}
	if ev.Kind == inferior.EventHWBreakpoint {
		ev.HW.Addr = 0 // hwbreak has no address
	}
	if !f.multiprocess {
		switch ev.Kind {
		case inferior.EventExited, inferior.EventKilled:
			ev.PID = 0
		case inferior.EventNoResumed:
		default:
			ev.PID = inferior.Any
			if ev.ChildPID != 0 {
				ev.ChildPID = inferior.Any
			}
		}
	}
	return ev
}

func FuzzParseStopReply(f *testing.F) {
	for _, s := range []string{
		"T0506:0000000000000000;10:704bfef7ff7f0000;thread:p48f4.48f4;core:1;",
		"T13thread:48fc;name:basic;reason:signal;",
		"T05thread:10;reason:watchpoint;description:3130203020313034;",
		"T05thread:p1.2;watch:601040;", "T05thread:p1.2;fork:p3.3;", "T05exec:2f62696e;",
		"W07;process:10", "W7;process:38f0", "X09", "w03;p10.12", "N", "S0b",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, native bool) {
		r, err := ParseStopReply(in, native)
		if err != nil {
			return
		}
		// What the session can say of a parsed event, it says so
		// that parsing it again gives the same.
		format := stopFormat{multiprocess: true, swbreak: true, hwbreak: true, native: native}
		b := appendStopReply(nil, r.Event, format, nil, r.Core)
		r2, err := ParseStopReply(b, native)
		if err != nil {
			t.Fatalf("%q parsed as %+v, encoded as %q: %v", in, r.Event, b, err)
		}
		b3 := appendStopReply(nil, r2.Event, format, nil, r2.Core)
		r3, err := ParseStopReply(b3, native)
		if err != nil || r3.Event != r2.Event {
			t.Fatalf("%q: %+v encoded as %q parsed as %+v, %v", in, r2.Event, b3, r3.Event, err)
		}
	})
}
