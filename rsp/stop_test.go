package rsp

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

func testRegs() *regs.Set {
	rs := &regs.Set{Layout: regs.FXSaveLayout()}
	rs.GPR.Rbp = 0x7ffe0010
	rs.GPR.Rsp = 0x7ffe0000
	rs.GPR.Rip = 0x401136
	return rs
}

func TestAppendStopReply(t *testing.T) {
	gprs := expedite("1000fe7f00000000", "0000fe7f00000000", "3611400000000000")
	mp := stopFormat{multiprocess: true, swbreak: true}
	tests := []struct {
		name string
		ev   inferior.Event
		f    stopFormat
		rs   *regs.Set
		core int
		want string
	}{
		{
			name: "breakpoint, everything negotiated",
			ev:   inferior.Event{Kind: inferior.EventBreakpoint, PID: 0x1f2, TID: 0x1f3},
			f:    mp, rs: testRegs(), core: 3,
			want: "T05thread:p1f2.1f3;" + gprs + "swbreak:;core:3;",
		},
		{
			name: "breakpoint, nothing negotiated",
			ev:   inferior.Event{Kind: inferior.EventBreakpoint, PID: 0x1f2, TID: 0x1f3},
			rs:   testRegs(), core: -1,
			want: "T05thread:1f3;" + gprs,
		},
		{
			name: "hardware breakpoint",
			ev:   inferior.Event{Kind: inferior.EventHWBreakpoint, PID: 0x1f2, TID: 0x1f3, HW: inferior.HWPoint{Addr: 0x401136}},
			f:    stopFormat{multiprocess: true, hwbreak: true}, core: -1,
			want: "T05thread:p1f2.1f3;hwbreak:;",
		},
		{
			name: "hardware breakpoint, hwbreak not negotiated",
			ev:   inferior.Event{Kind: inferior.EventHWBreakpoint, PID: 0x1f2, TID: 0x1f3, HW: inferior.HWPoint{Addr: 0x401136}},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;",
		},
		{
			name: "write, read and access watchpoints",
			ev:   inferior.Event{Kind: inferior.EventWatchpoint, PID: 0x1f2, TID: 0x1f3, HW: inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040}},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;watch:601040;",
		},
		{
			name: "read watchpoint",
			ev:   inferior.Event{Kind: inferior.EventWatchpoint, PID: 0x1f2, TID: 0x1f3, HW: inferior.HWPoint{Kind: inferior.HWRead, Addr: 0x601040}},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;rwatch:601040;",
		},
		{
			name: "access watchpoint",
			ev:   inferior.Event{Kind: inferior.EventWatchpoint, PID: 0x1f2, TID: 0x1f3, HW: inferior.HWPoint{Kind: inferior.HWAccess, Addr: 0x601040}},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;awatch:601040;",
		},
		{
			name: "single step",
			ev:   inferior.Event{Kind: inferior.EventStep, PID: 0x1f2, TID: 0x1f3},
			f:    mp, rs: testRegs(), core: 0,
			want: "T05thread:p1f2.1f3;" + gprs + "core:0;",
		},
		{
			name: "signal in gdb's numbering",
			ev:   inferior.Event{Kind: inferior.EventSignal, PID: 0x1f2, TID: 0x1f3, Signal: int(unix.SIGUSR1)},
			f:    mp, core: -1,
			want: "T1ethread:p1f2.1f3;",
		},
		{
			name: "interrupt",
			ev:   inferior.Event{Kind: inferior.EventSignal, PID: 0x1f2, TID: 0x1f3, Signal: int(unix.SIGINT)},
			core: -1,
			want: "T02thread:1f3;",
		},
		{
			name: "exit",
			ev:   inferior.Event{Kind: inferior.EventExited, PID: 0x1f2, ExitCode: 3},
			f:    mp,
			want: "W03;process:1f2",
		},
		{
			name: "exit without multiprocess",
			ev:   inferior.Event{Kind: inferior.EventExited, PID: 0x1f2, ExitCode: 256 + 7},
			want: "W07",
		},
		{
			name: "killed by a signal",
			ev:   inferior.Event{Kind: inferior.EventKilled, PID: 0x1f2, Signal: int(unix.SIGSEGV)},
			f:    mp,
			want: "X0b;process:1f2",
		},
		{
			name: "killed by SIGUSR2, renumbered",
			ev:   inferior.Event{Kind: inferior.EventKilled, PID: 0x1f2, Signal: int(unix.SIGUSR2)},
			want: "X1f",
		},
		{
			name: "no process at all",
			ev:   inferior.Event{Kind: inferior.EventExited},
			f:    mp,
			want: "W00",
		},
		{
			name: "fork",
			ev:   inferior.Event{Kind: inferior.EventFork, PID: 0x1f2, TID: 0x1f3, ChildPID: 0x200, ChildTID: 0x200},
			f:    mp, rs: testRegs(), core: 1,
			want: "T05thread:p1f2.1f3;" + gprs + "fork:p200.200;core:1;",
		},
		{
			name: "vfork without multiprocess",
			ev:   inferior.Event{Kind: inferior.EventVFork, PID: 0x1f2, TID: 0x1f3, ChildPID: 0x200, ChildTID: 0x201},
			core: -1,
			want: "T05thread:1f3;vfork:201;",
		},
		{
			name: "vfork done",
			ev:   inferior.Event{Kind: inferior.EventVForkDone, PID: 0x1f2, TID: 0x1f3},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;vforkdone:;",
		},
		{
			name: "exec",
			ev:   inferior.Event{Kind: inferior.EventExec, PID: 0x1f2, TID: 0x1f2, ExecPath: "/bin/ls"},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f2;exec:2f62696e2f6c73;",
		},
		{
			name: "syscall entry",
			ev:   inferior.Event{Kind: inferior.EventSyscallEntry, PID: 0x1f2, TID: 0x1f3, Syscall: 0},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;syscall_entry:0;",
		},
		{
			name: "syscall return",
			ev:   inferior.Event{Kind: inferior.EventSyscallReturn, PID: 0x1f2, TID: 0x1f3, Syscall: 0x101},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;syscall_return:101;",
		},
		{
			name: "thread created",
			ev:   inferior.Event{Kind: inferior.EventThreadCreated, PID: 0x1f2, TID: 0x1f4},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f4;create:;",
		},
		{
			name: "thread exited",
			ev:   inferior.Event{Kind: inferior.EventThreadExited, PID: 0x1f2, TID: 0x1f4, ExitCode: 0x102},
			f:    mp,
			want: "w02;p1f2.1f4",
		},
		{
			name: "thread exited without multiprocess",
			ev:   inferior.Event{Kind: inferior.EventThreadExited, PID: 0x1f2, TID: 0x1f4},
			want: "w00;1f4",
		},
		{
			name: "no resumed",
			ev:   inferior.Event{Kind: inferior.EventNoResumed},
			f:    mp,
			want: "N",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendStopReply(nil, tt.ev, tt.f, tt.rs, tt.core))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func BenchmarkAppendStopReply(b *testing.B) {
	rs := testRegs()
	ev := inferior.Event{Kind: inferior.EventBreakpoint, PID: 0x1f2, TID: 0x1f3}
	f := stopFormat{multiprocess: true, swbreak: true}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = appendStopReply(buf[:0], ev, f, rs, 3)
	}
}

// expedite returns the registers a T reply expedites for a thread whose
// rbp, rsp and rip are given (in the reply's hex) and whose other
// registers are zero.
func expedite(rbp, rsp, rip string) string {
	var b strings.Builder
	for _, n := range expedited {
		v := strings.Repeat("0", 16)
		switch n {
		case regs.RBP:
			v = rbp
		case regs.RSP:
			v = rsp
		case regs.RIP:
			v = rip
		case regs.EFLAGS:
			v = strings.Repeat("0", 8)
		}
		fmt.Fprintf(&b, "%02x:%s;", n, v)
	}
	return b.String()
}
