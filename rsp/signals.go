package rsp

import "golang.org/x/sys/unix"

// Signal numbers on the wire are gdb's own (include/gdb/signals.def), the
// same on every host; Target speaks Linux x86-64 numbers. The two agree
// only for the oldest signals, so every signal crosses this table.

// gdbSignalUnknown is gdb's "unknown signal": what a Linux signal without a
// gdb counterpart (SIGSTKFLT) is reported as.
const gdbSignalUnknown = 143

// Linux real-time signals: gdb numbers SIG32 as 77, SIG33..SIG63 as 45..75
// and SIG64 as 78, because its table grew before Linux had them.
const (
	gdbSignalRealtime33 = 45
	gdbSignalRealtime32 = 77
	gdbSignalRealtime64 = 78
	hostSignalMax       = 64
)

// hostToGDB maps each Linux signal number to gdb's. It is filled once and
// only read.
var hostToGDB = func() (t [hostSignalMax + 1]int) {
	for i := range t {
		t[i] = gdbSignalUnknown
	}
	t[0] = 0
	for host, gdb := range map[unix.Signal]int{
		unix.SIGHUP: 1, unix.SIGINT: 2, unix.SIGQUIT: 3, unix.SIGILL: 4,
		unix.SIGTRAP: 5, unix.SIGABRT: 6, unix.SIGFPE: 8, unix.SIGKILL: 9,
		unix.SIGBUS: 10, unix.SIGSEGV: 11, unix.SIGSYS: 12, unix.SIGPIPE: 13,
		unix.SIGALRM: 14, unix.SIGTERM: 15, unix.SIGURG: 16, unix.SIGSTOP: 17,
		unix.SIGTSTP: 18, unix.SIGCONT: 19, unix.SIGCHLD: 20, unix.SIGTTIN: 21,
		unix.SIGTTOU: 22, unix.SIGIO: 23, unix.SIGXCPU: 24, unix.SIGXFSZ: 25,
		unix.SIGVTALRM: 26, unix.SIGPROF: 27, unix.SIGWINCH: 28,
		unix.SIGUSR1: 30, unix.SIGUSR2: 31, unix.SIGPWR: 32,
		// SIGSTKFLT (16) stays gdbSignalUnknown: gdb has no number for it.
	} {
		t[host] = gdb
	}
	t[32] = gdbSignalRealtime32
	for host := 33; host <= 63; host++ {
		t[host] = gdbSignalRealtime33 + host - 33
	}
	t[64] = gdbSignalRealtime64
	return t
}()

// gdbToHost is the inverse of hostToGDB, -1 where gdb's signal has no Linux
// counterpart (SIGEMT, SIGLOST, the unknown signal, ...).
var gdbToHost = func() (t [256]int) {
	for i := range t {
		t[i] = -1
	}
	for host, gdb := range hostToGDB {
		if gdb != gdbSignalUnknown {
			t[gdb] = host
		}
	}
	// gdb's SIGPOLL is Linux's SIGIO under another name.
	t[33] = int(unix.SIGIO)
	return t
}()

// gdbSignal returns gdb's number for the Linux signal host.
func gdbSignal(host int) int {
	if host < 0 || host > hostSignalMax {
		return gdbSignalUnknown
	}
	return hostToGDB[host]
}

// hostSignal returns the Linux number for gdb's signal sig; ok is false if
// Linux has no such signal.
func hostSignal(sig int) (host int, ok bool) {
	if sig < 0 || sig >= len(gdbToHost) || gdbToHost[sig] < 0 {
		return 0, false
	}
	return gdbToHost[sig], true
}

// wireSignal returns the number host signal sig has on the wire: gdb's,
// or Linux's own when native (dialect.go).
func wireSignal(sig int, native bool) int {
	if native {
		return sig
	}
	return gdbSignal(sig)
}

// passedHostSignals returns the Linux signals that QPassSignals' list of
// gdb signals lets through: those whose own gdb number is listed. The
// list is not translated name by name, because two gdb signals name
// Linux's SIGIO: gdb passes SIGPOLL by default, and after `handle SIGIO
// stop` it still lists SIGPOLL, which must not make SIGIO pass (gdbserver
// decides the same way, by the gdb number of the signal that arrived).
func passedHostSignals(gdbSigs []int) []int {
	var listed [len(gdbToHost)]bool
	for _, sig := range gdbSigs {
		if sig >= 0 && sig < len(listed) {
			listed[sig] = true
		}
	}
	var host []int
	for h := 1; h <= hostSignalMax; h++ {
		if listed[hostToGDB[h]] {
			host = append(host, h)
		}
	}
	return host
}
