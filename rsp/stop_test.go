package rsp

import (
	"testing"

	"golang.org/x/sys/unix"

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
	const (
		rbp = "06:1000fe7f00000000;"
		rsp = "07:0000fe7f00000000;"
		rip = "10:3611400000000000;"
	)
	mp := stopFormat{multiprocess: true, swbreak: true}
	tests := []struct {
		name string
		ev   StopEvent
		f    stopFormat
		rs   *regs.Set
		core int
		want string
	}{
		{
			name: "breakpoint, everything negotiated",
			ev:   StopEvent{Kind: StopBreakpoint, PID: 0x1f2, TID: 0x1f3},
			f:    mp, rs: testRegs(), core: 3,
			want: "T05thread:p1f2.1f3;" + rbp + rsp + rip + "swbreak:;core:3;",
		},
		{
			name: "breakpoint, nothing negotiated",
			ev:   StopEvent{Kind: StopBreakpoint, PID: 0x1f2, TID: 0x1f3},
			rs:   testRegs(), core: -1,
			want: "T05thread:1f3;" + rbp + rsp + rip,
		},
		{
			name: "hardware breakpoint",
			ev:   StopEvent{Kind: StopHWBreakpoint, PID: 0x1f2, TID: 0x1f3, HWAddr: 0x401136},
			f:    stopFormat{multiprocess: true, hwbreak: true}, core: -1,
			want: "T05thread:p1f2.1f3;hwbreak:;",
		},
		{
			name: "hardware breakpoint, hwbreak not negotiated",
			ev:   StopEvent{Kind: StopHWBreakpoint, PID: 0x1f2, TID: 0x1f3, HWAddr: 0x401136},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;",
		},
		{
			name: "write, read and access watchpoints",
			ev:   StopEvent{Kind: StopWatchpoint, PID: 0x1f2, TID: 0x1f3, HWKind: HWWrite, HWAddr: 0x601040},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;watch:601040;",
		},
		{
			name: "read watchpoint",
			ev:   StopEvent{Kind: StopWatchpoint, PID: 0x1f2, TID: 0x1f3, HWKind: HWRead, HWAddr: 0x601040},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;rwatch:601040;",
		},
		{
			name: "access watchpoint",
			ev:   StopEvent{Kind: StopWatchpoint, PID: 0x1f2, TID: 0x1f3, HWKind: HWAccess, HWAddr: 0x601040},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;awatch:601040;",
		},
		{
			name: "single step",
			ev:   StopEvent{Kind: StopStep, PID: 0x1f2, TID: 0x1f3},
			f:    mp, rs: testRegs(), core: 0,
			want: "T05thread:p1f2.1f3;" + rbp + rsp + rip + "core:0;",
		},
		{
			name: "signal in gdb's numbering",
			ev:   StopEvent{Kind: StopSignal, PID: 0x1f2, TID: 0x1f3, Signal: int(unix.SIGUSR1)},
			f:    mp, core: -1,
			want: "T1ethread:p1f2.1f3;",
		},
		{
			name: "interrupt",
			ev:   StopEvent{Kind: StopSignal, PID: 0x1f2, TID: 0x1f3, Signal: int(unix.SIGINT)},
			core: -1,
			want: "T02thread:1f3;",
		},
		{
			name: "exit",
			ev:   StopEvent{Kind: StopExited, PID: 0x1f2, ExitCode: 3},
			f:    mp,
			want: "W03;process:1f2",
		},
		{
			name: "exit without multiprocess",
			ev:   StopEvent{Kind: StopExited, PID: 0x1f2, ExitCode: 256 + 7},
			want: "W07",
		},
		{
			name: "killed by a signal",
			ev:   StopEvent{Kind: StopKilled, PID: 0x1f2, Signal: int(unix.SIGSEGV)},
			f:    mp,
			want: "X0b;process:1f2",
		},
		{
			name: "killed by SIGUSR2, renumbered",
			ev:   StopEvent{Kind: StopKilled, PID: 0x1f2, Signal: int(unix.SIGUSR2)},
			want: "X1f",
		},
		{
			name: "no process at all",
			ev:   StopEvent{Kind: StopExited},
			f:    mp,
			want: "W00",
		},
		{
			name: "fork",
			ev:   StopEvent{Kind: StopFork, PID: 0x1f2, TID: 0x1f3, ChildPID: 0x200, ChildTID: 0x200},
			f:    mp, rs: testRegs(), core: 1,
			want: "T05thread:p1f2.1f3;" + rbp + rsp + rip + "fork:p200.200;core:1;",
		},
		{
			name: "vfork without multiprocess",
			ev:   StopEvent{Kind: StopVFork, PID: 0x1f2, TID: 0x1f3, ChildPID: 0x200, ChildTID: 0x201},
			core: -1,
			want: "T05thread:1f3;vfork:201;",
		},
		{
			name: "vfork done",
			ev:   StopEvent{Kind: StopVForkDone, PID: 0x1f2, TID: 0x1f3},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;vforkdone:;",
		},
		{
			name: "exec",
			ev:   StopEvent{Kind: StopExec, PID: 0x1f2, TID: 0x1f2, ExecPath: "/bin/ls"},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f2;exec:2f62696e2f6c73;",
		},
		{
			name: "syscall entry",
			ev:   StopEvent{Kind: StopSyscallEntry, PID: 0x1f2, TID: 0x1f3, Syscall: 0},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;syscall_entry:0;",
		},
		{
			name: "syscall return",
			ev:   StopEvent{Kind: StopSyscallReturn, PID: 0x1f2, TID: 0x1f3, Syscall: 0x101},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f3;syscall_return:101;",
		},
		{
			name: "thread created",
			ev:   StopEvent{Kind: StopThreadCreated, PID: 0x1f2, TID: 0x1f4},
			f:    mp, core: -1,
			want: "T05thread:p1f2.1f4;create:;",
		},
		{
			name: "thread exited",
			ev:   StopEvent{Kind: StopThreadExited, PID: 0x1f2, TID: 0x1f4, ExitCode: 0x102},
			f:    mp,
			want: "w02;p1f2.1f4",
		},
		{
			name: "thread exited without multiprocess",
			ev:   StopEvent{Kind: StopThreadExited, PID: 0x1f2, TID: 0x1f4},
			want: "w00;1f4",
		},
		{
			name: "no resumed",
			ev:   StopEvent{Kind: StopNoResumed},
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
	ev := StopEvent{Kind: StopBreakpoint, PID: 0x1f2, TID: 0x1f3}
	f := stopFormat{multiprocess: true, swbreak: true}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = appendStopReply(buf[:0], ev, f, rs, 3)
	}
}
