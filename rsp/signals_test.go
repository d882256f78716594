package rsp

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSignalTable(t *testing.T) {
	// gdb's numbers from include/gdb/signals.def.
	tests := []struct {
		host unix.Signal
		gdb  int
	}{
		{0, 0},
		{unix.SIGHUP, 1}, {unix.SIGINT, 2}, {unix.SIGQUIT, 3}, {unix.SIGILL, 4},
		{unix.SIGTRAP, 5}, {unix.SIGABRT, 6}, {unix.SIGBUS, 10}, {unix.SIGFPE, 8},
		{unix.SIGKILL, 9}, {unix.SIGUSR1, 30}, {unix.SIGSEGV, 11}, {unix.SIGUSR2, 31},
		{unix.SIGPIPE, 13}, {unix.SIGALRM, 14}, {unix.SIGTERM, 15},
		{unix.SIGSTKFLT, gdbSignalUnknown},
		{unix.SIGCHLD, 20}, {unix.SIGCONT, 19}, {unix.SIGSTOP, 17}, {unix.SIGTSTP, 18},
		{unix.SIGTTIN, 21}, {unix.SIGTTOU, 22}, {unix.SIGURG, 16}, {unix.SIGXCPU, 24},
		{unix.SIGXFSZ, 25}, {unix.SIGVTALRM, 26}, {unix.SIGPROF, 27}, {unix.SIGWINCH, 28},
		{unix.SIGIO, 23}, {unix.SIGPWR, 32}, {unix.SIGSYS, 12},
		{32, 77}, {33, 45}, {34, 46}, {50, 62}, {63, 75}, {64, 78},
	}
	for _, tt := range tests {
		if got := gdbSignal(int(tt.host)); got != tt.gdb {
			t.Errorf("gdbSignal(%d) = %d, want %d", tt.host, got, tt.gdb)
		}
		if tt.gdb == gdbSignalUnknown {
			continue
		}
		if got, ok := hostSignal(tt.gdb); !ok || got != int(tt.host) {
			t.Errorf("hostSignal(%d) = %d, %v; want %d", tt.gdb, got, ok, tt.host)
		}
	}
	if got, ok := hostSignal(33); !ok || got != int(unix.SIGIO) {
		t.Errorf("hostSignal(SIGPOLL) = %d, %v; want SIGIO", got, ok)
	}
	for _, gdb := range []int{-1, 7, 29, 76, gdbSignalUnknown, 255, 256, 1000} {
		if host, ok := hostSignal(gdb); ok {
			t.Errorf("hostSignal(%d) = %d, want no Linux signal", gdb, host)
		}
	}
	for _, host := range []int{-1, 65, 1000} {
		if got := gdbSignal(host); got != gdbSignalUnknown {
			t.Errorf("gdbSignal(%d) = %d, want unknown", host, got)
		}
	}
}

// TestSignalRoundTrip checks that every Linux signal with a gdb number
// comes back unchanged.
func TestSignalRoundTrip(t *testing.T) {
	for host := 1; host <= hostSignalMax; host++ {
		gdb := gdbSignal(host)
		if gdb == gdbSignalUnknown {
			if host != int(unix.SIGSTKFLT) {
				t.Errorf("Linux signal %d has no gdb number", host)
			}
			continue
		}
		if back, ok := hostSignal(gdb); !ok || back != host {
			t.Errorf("signal %d -> gdb %d -> %d, %v", host, gdb, back, ok)
		}
	}
}
