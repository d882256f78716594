package target

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/internal/selftest"
)

// SelfChecks returns target's checks for procgdb --selftest: this
// process may trace a child and set its debug registers (the start-up
// probe, which says whether their traps arrive), wait statuses are
// classified, stores are decoded for emulated watchpoints, and /proc
// reads back this process.
func SelfChecks() []selftest.Check {
	return []selftest.Check{
		{Name: "target: tracing a child, and its debug registers", Run: checkPtrace},
		{Name: "target: wait statuses", Run: checkClassify},
		{Name: "target: stores found for emulated watchpoints", Run: checkStores},
		{Name: "target: /proc of this process", Run: checkProc},
	}
}

// checkPtrace runs the debug register probe: it fails only when the
// probe cannot trace its child at all. Traps that do not arrive are this
// machine's way, which procgdb works around.
func checkPtrace() (string, error) {
	_, err := probe()
	switch {
	case err == nil:
		return "debug register traps arrive", nil
	case errors.Is(err, errProbe):
		return "", err
	}
	return fmt.Sprintf("debug register traps do not arrive (%v): write watchpoints are emulated", err), nil
}

func checkClassify() (string, error) {
	stopped := func(sig unix.Signal, event int) unix.WaitStatus {
		return unix.WaitStatus(0x7f | int(sig)<<8 | event<<16)
	}
	tests := []struct {
		ws   unix.WaitStatus
		want waitKind
	}{
		{unix.WaitStatus(7 << 8), waitExited},
		{unix.WaitStatus(unix.SIGKILL), waitKilled},
		{stopped(unix.SIGSEGV, 0), waitSignal},
		{stopped(unix.SIGTRAP|0x80, 0), waitSyscall},
		{stopped(unix.SIGTRAP, unix.PTRACE_EVENT_CLONE), waitClone},
		{stopped(unix.SIGTRAP, unix.PTRACE_EVENT_EXEC), waitExec},
		{stopped(unix.SIGTRAP, unix.PTRACE_EVENT_STOP), waitStop},
	}
	for _, tt := range tests {
		if got := classify(1, tt.ws); got.kind != tt.want {
			return "", fmt.Errorf("wait status %#x is %v, want %v", uint32(tt.ws), got.kind, tt.want)
		}
	}
	return "", nil
}

func checkStores() (string, error) {
	g := unix.PtraceRegs{Rax: 0x5000, Rsp: 0x7ff8}
	tests := []struct {
		code []byte
		addr uint64
		want writeClaim
	}{
		{[]byte{0x48, 0x89, 0x18}, 0x5000, wrote},       // mov [rax], rbx
		{[]byte{0x48, 0x8b, 0x18}, 0x5000, didNotWrite}, // mov rbx, [rax]
		{[]byte{0x50}, 0x7ff8, wrote},                   // push rax
		{[]byte{0x0f, 0x05}, 0x5000, mayHaveWritten},    // syscall
	}
	for _, tt := range tests {
		if got := stepWrote(tt.code, 0x1000, &g, tt.addr, 8); got != tt.want {
			return "", fmt.Errorf("% x: claim %d, want %d", tt.code, got, tt.want)
		}
	}
	return "", nil
}

func checkProc() (string, error) {
	tids, err := listTasks(os.Getpid())
	if err != nil {
		return "", err
	}
	if !slices.Contains(tids, unix.Gettid()) {
		return "", fmt.Errorf("threads of this process %v lack this thread %d", tids, unix.Gettid())
	}
	exe, err := execFile(os.Getpid())
	if err != nil {
		return "", err
	}
	if self, err := os.Executable(); err != nil || self != exe {
		return "", fmt.Errorf("executable %q, want %q (%v)", exe, self, err)
	}
	return "", nil
}
