package rsp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// lldbSupported is the qSupported lldb 14 sends.
const lldbSupported = "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"

// TestDialects checks, for each dialect a client can choose by what it
// sends, what differs between gdb and lldb: signal numbers both ways,
// error replies, x's reply, and what stop replies carry.
func TestDialects(t *testing.T) {
	usr1 := int(unix.SIGUSR1)
	readErr := fmt.Errorf("read: %w", errMemory)
	lldbText := "E05;" + hex.EncodeToString([]byte(readErr.Error()))
	tests := []struct {
		name    string
		packets []string // what the client sends, in order
		wire    int      // SIGUSR1's number on the wire
		err     string   // the reply to readErr
		x, x0   string   // the replies to x10000,2 and x10000,0
		reason  bool     // stop replies carry lldb's reason:
		threads bool     // and its thread list
		suffix  bool     // p takes lldb's thread suffix
	}{
		{name: "nothing negotiated", wire: 30, err: "E05", x: "\x00\x01", x0: "OK"},
		{"gdb", []string{gdbFeatures}, 30, "E05", "b\x00\x01", "b", false, false, false},
		{"gdb with error-message", []string{gdbFeatures + ";error-message+"}, 30, "E.read: memory not accessible", "b\x00\x01", "b", false, false, false},
		{"binary-upload alone", []string{"qSupported:binary-upload+"}, 30, "E05", "b\x00\x01", "b", false, false, false},
		{"lldb's qSupported", []string{lldbSupported}, 10, "E05", "\x00\x01", "OK", false, false, false},
		{"lldb's qHostInfo", []string{"qHostInfo"}, 10, "E05", "\x00\x01", "OK", true, false, false},
		{"lldb's thread suffix", []string{lldbSupported, "QThreadSuffixSupported"}, 10, "E05", "\x00\x01", "OK", true, false, true},
		{"lldb's thread list", []string{lldbSupported, "QListThreadsInStopReply"}, 10, "E05", "\x00\x01", "OK", true, true, false},
		{"lldb's error strings", []string{lldbSupported, "QEnableErrorStrings"}, 10, lldbText, "\x00\x01", "OK", true, false, false},
		{"lldb's error strings outlast qSupported", []string{"QEnableErrorStrings", gdbFeatures + ";error-message+"}, 30, lldbText, "b\x00\x01", "b", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession(new(bytes.Buffer), newFakeTarget(), Config{})
			for _, p := range tt.packets {
				if r := s.dispatch([]byte(p)); r.kind == replyError || r.kind == replyEmpty {
					t.Fatalf("%s: %+v", p, r)
				}
			}
			d := s.dialect
			if got := d.toWire(usr1); got != tt.wire {
				t.Errorf("SIGUSR1 on the wire: %d, want %d", got, tt.wire)
			}
			if got := d.fromWire(tt.wire); got != (signalNumber{tt.wire, usr1, true}) {
				t.Errorf("fromWire(%d) = %+v, want SIGUSR1", tt.wire, got)
			}
			if got := string(d.appendError(nil, readErr)); got != tt.err {
				t.Errorf("error reply %q, want %q", got, tt.err)
			}
			if got := payload(t, s.dispatch([]byte("x10000,2"))); got != tt.x {
				t.Errorf("x10000,2: %q, want %q", got, tt.x)
			}
			if got := payload(t, s.dispatch([]byte("x10000,0"))); got != tt.x0 {
				t.Errorf("x10000,0: %q, want %q", got, tt.x0)
			}
			if r := s.dispatch([]byte("p10;thread:65;")); (r.kind != replyError) != tt.suffix {
				t.Errorf("p10;thread:65;: %+v, want a thread suffix %v", r, tt.suffix)
			}
			stop := payload(t, s.dispatch([]byte("?")))
			if got := strings.Contains(stop, "reason:"); got != tt.reason {
				t.Errorf("stop reply %q: reason %v, want %v", stop, got, tt.reason)
			}
			if got := strings.Contains(stop, "threads:"); got != tt.threads {
				t.Errorf("stop reply %q: thread list %v, want %v", stop, got, tt.threads)
			}
		})
	}
}

// payload returns what reply r says: OK, or its data, unframed.
func payload(t *testing.T, r reply) string {
	t.Helper()
	switch {
	case r.kind == replyOK:
		return "OK"
	case r.kind != replyData:
		t.Fatalf("reply %+v", r)
	case r.framed:
		// '$', the payload, '#' and two digits; x's bytes need no
		// escaping here.
		return string(r.data[1 : len(r.data)-3])
	}
	return string(r.data)
}

// TestDialectPassSignals checks QPassSignals' numbers in both numberings:
// gdb's SIGALRM and SIGCHLD are 14 and 20, Linux's 14 and 17.
func TestDialectPassSignals(t *testing.T) {
	for _, tt := range []struct {
		d    dialect
		sigs []int
		want []int
	}{
		{dialect{}, []int{14, 20}, []int{int(unix.SIGALRM), int(unix.SIGCHLD)}},
		{dialect{native: true}, []int{14, 17, 0, 65}, []int{int(unix.SIGALRM), int(unix.SIGCHLD)}},
	} {
		if got := tt.d.passedSignals(tt.sigs); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%+v: passedSignals(%v) = %v, want %v", tt.d, tt.sigs, got, tt.want)
		}
	}
}
