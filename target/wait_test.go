package target

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestClassify(t *testing.T) {
	stopped := func(sig unix.Signal, event int) unix.WaitStatus {
		return unix.WaitStatus(0x7f | int(sig)<<8 | event<<16)
	}
	tests := []struct {
		name string
		ws   unix.WaitStatus
		want waitEvent
	}{
		{"exit 7", unix.WaitStatus(7 << 8), waitEvent{kind: waitExited, tid: 9, code: 7}},
		{"killed by SIGSEGV", unix.WaitStatus(unix.SIGSEGV), waitEvent{kind: waitKilled, tid: 9, sig: unix.SIGSEGV}},
		{"SIGSEGV stop", stopped(unix.SIGSEGV, 0), waitEvent{kind: waitSignal, tid: 9, sig: unix.SIGSEGV}},
		{"SIGTRAP stop", stopped(unix.SIGTRAP, 0), waitEvent{kind: waitSignal, tid: 9, sig: unix.SIGTRAP}},
		{"syscall stop", stopped(unix.SIGTRAP|0x80, 0), waitEvent{kind: waitSyscall, tid: 9, sig: unix.SIGTRAP}},
		{"clone", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_CLONE), waitEvent{kind: waitClone, tid: 9, sig: unix.SIGTRAP}},
		{"fork", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_FORK), waitEvent{kind: waitFork, tid: 9, sig: unix.SIGTRAP}},
		{"vfork", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_VFORK), waitEvent{kind: waitVFork, tid: 9, sig: unix.SIGTRAP}},
		{"vfork done", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_VFORK_DONE), waitEvent{kind: waitVForkDone, tid: 9, sig: unix.SIGTRAP}},
		{"exec", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_EXEC), waitEvent{kind: waitExec, tid: 9, sig: unix.SIGTRAP}},
		{"exit event", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_EXIT), waitEvent{kind: waitExit, tid: 9, sig: unix.SIGTRAP}},
		{"interrupt", stopped(unix.SIGTRAP, unix.PTRACE_EVENT_STOP), waitEvent{kind: waitStop, tid: 9, sig: unix.SIGTRAP}},
		{"group-stop", stopped(unix.SIGSTOP, unix.PTRACE_EVENT_STOP), waitEvent{kind: waitStop, tid: 9, sig: unix.SIGSTOP}},
		{"unknown event", stopped(unix.SIGTRAP, 0x55), waitEvent{kind: waitUnknown, tid: 9, sig: unix.SIGTRAP}},
		{"continued", unix.WaitStatus(0xffff), waitEvent{kind: waitUnknown, tid: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, classify(9, tt.ws))
		})
	}
}
