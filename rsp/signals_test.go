package rsp

import (
	"slices"
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

// TestPassedHostSignals: each Linux signal passes exactly when its own gdb
// number is listed.
func TestPassedHostSignals(t *testing.T) {
	for host := 1; host <= hostSignalMax; host++ {
		if got := passedHostSignals([]int{gdbSignal(host)}); !slices.Equal(got, []int{host}) {
			t.Errorf("passing gdb's %d (Linux %d) passes %v", gdbSignal(host), host, got)
		}
	}
	// gdb 13's list at start-up: the signals it neither stops at nor
	// prints. SIGPOLL (33), SIGPRIO (44), SIGWAITING (36), SIGLWP (37),
	// SIGCANCEL (76) and SIGINFO (142) have no Linux number of their own.
	start := []int{14, 16, 20, 23, 26, 27, 28, 33, 36, 37, 44, 76, 142}
	want := []int{int(unix.SIGURG), int(unix.SIGALRM), int(unix.SIGCHLD), int(unix.SIGVTALRM), int(unix.SIGPROF), int(unix.SIGWINCH), int(unix.SIGIO)}
	slices.Sort(want)
	if got := passedHostSignals(start); !slices.Equal(got, want) {
		t.Errorf("gdb's start-up list passes %v, want %v", got, want)
	}
	if got := passedHostSignals(slices.DeleteFunc(slices.Clone(start), func(s int) bool { return s == 23 })); slices.Contains(got, int(unix.SIGIO)) {
		t.Errorf("without SIGIO (23), SIGIO still passes: %v", got)
	}
	if got := passedHostSignals([]int{-1, 0, 7, 29, 143, 255, 256, 1 << 20}); len(got) != 1 || got[0] != int(unix.SIGSTKFLT) {
		t.Errorf("signals out of range or without a Linux number pass %v, want only SIGSTKFLT (gdb's unknown signal)", got)
	}
}
