package rsp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

var all = inferior.ThreadID{PID: inferior.All, TID: inferior.All}

func TestParseVCont(t *testing.T) {
	tests := []struct {
		in   string
		want []vContAction
		err  error
	}{
		{";c", []vContAction{{thread: all}}, nil},
		{";s:1f3;c", []vContAction{{step: true, thread: inferior.ThreadID{PID: inferior.Any, TID: 0x1f3}}, {thread: all}}, nil},
		{";S05:p1f2.1f3;c:p1f2.-1", []vContAction{
			{step: true, signal: 5, thread: inferior.ThreadID{PID: 0x1f2, TID: 0x1f3}},
			{thread: inferior.ThreadID{PID: 0x1f2, TID: inferior.All}},
		}, nil},
		{";C0b:-1", []vContAction{{signal: 11, thread: all}}, nil},
		{";c:p-1.-1", []vContAction{{thread: all}}, nil},
		{"", nil, errMalformed},
		{";", nil, errMalformed},
		{";c;", nil, errMalformed},
		{"c", nil, errMalformed},
		{";cc", nil, errMalformed},
		{";t", []vContAction{{stop: true, thread: all}}, nil},
		{";t:p1.-1;c", []vContAction{{stop: true, thread: inferior.ThreadID{PID: 1, TID: inferior.All}}, {thread: all}}, nil},
		{";tx", nil, errMalformed},
		{";x", nil, errUnsupported},
		{";r1000,2000:p1.1;c", []vContAction{
			{step: true, ranged: true, rangeStart: 0x1000, rangeEnd: 0x2000, thread: inferior.ThreadID{PID: 1, TID: 1}},
			{thread: all},
		}, nil},
		{";r1000", nil, errMalformed},
		{";r1000,", nil, errHexEmpty},
		{";rzz,1000", nil, errHexDigit},
		{";C", nil, errHexEmpty},
		{";C100", nil, errHexOverflow},
		{";c:", nil, errHexEmpty},
		{";c:pz", nil, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseVCont([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseVCont(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseVCont(f *testing.F) {
	f.Add([]byte(";s:p1f2.1f3;c"))
	f.Add([]byte(";C0b:-1"))
	f.Add([]byte(";r401000,401010:p1.1;c"))
	f.Fuzz(func(t *testing.T, in []byte) {
		actions, err := parseVCont(in)
		if err != nil {
			return
		}
		again, err := parseVCont(appendVCont(nil, actions))
		if err != nil || !reflect.DeepEqual(again, actions) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, actions)
		}
	})
}

func TestParseLegacyResume(t *testing.T) {
	tests := []struct {
		in         string
		withSignal bool
		want       legacyResume
		err        error
	}{
		{"", false, legacyResume{}, nil},
		{"401136", false, legacyResume{addr: 0x401136, hasAddr: true}, nil},
		{"0b", true, legacyResume{signal: 11}, nil},
		{"0b;401136", true, legacyResume{signal: 11, addr: 0x401136, hasAddr: true}, nil},
		{"", true, legacyResume{}, errHexEmpty},
		{"0b;", true, legacyResume{}, errHexEmpty},
		{"xyz", false, legacyResume{}, errHexDigit},
		{"123", true, legacyResume{}, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseLegacyResume([]byte(tt.in), tt.withSignal)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseLegacyResume(%q, %v) = %+v, %v; want %+v, %v", tt.in, tt.withSignal, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseLegacyResume(f *testing.F) {
	f.Add([]byte("0b;401136"), true)
	f.Add([]byte("401136"), false)
	f.Fuzz(func(t *testing.T, in []byte, withSignal bool) {
		_, _ = parseLegacyResume(in, withSignal)
	})
}

func TestParseSetThread(t *testing.T) {
	tests := []struct {
		in   string
		want setThread
		err  error
	}{
		{"g0", setThread{'g', inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}}, nil},
		{"gp1f2.1f3", setThread{'g', inferior.ThreadID{PID: 0x1f2, TID: 0x1f3}}, nil},
		{"c-1", setThread{'c', all}, nil},
		{"m0", setThread{}, errMalformed},
		{"", setThread{}, errMalformed},
		{"g", setThread{}, errHexEmpty},
	}
	for _, tt := range tests {
		got, err := parseSetThread([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseSetThread(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseSetThread(f *testing.F) {
	f.Add([]byte("gp1f2.1f3"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := parseSetThread(in)
		if err != nil {
			return
		}
		again, err := parseSetThread(appendThreadID([]byte{h.op}, h.thread, true))
		if err != nil || again != h {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, h)
		}
	})
}

// resumeWith sends a resume packet, lets the fake stop on thread 101 with
// a breakpoint, and returns the actions the target got.
func resumeWith(t *testing.T, h *harness, packet string) []inferior.Action {
	t.Helper()
	h.ft.stops <- inferior.Event{Kind: inferior.EventBreakpoint, PID: fakePID, TID: fakePID + 1}
	if r := h.exchange(packet); !strings.HasPrefix(r, "T05") {
		t.Fatalf("%s: reply %q, want a stop", packet, r)
	}
	h.ft.mu.Lock()
	defer h.ft.mu.Unlock()
	return h.ft.resumes[len(h.ft.resumes)-1]
}

func TestResumePackets(t *testing.T) {
	cont := func(pid, tid int) inferior.Action {
		return inferior.Action{Kind: inferior.Continue, PID: pid, TID: tid}
	}
	step := func(pid, tid int) inferior.Action { return inferior.Action{Kind: inferior.Step, PID: pid, TID: tid} }
	tests := []struct {
		name     string
		features string
		setup    []string
		packet   string
		want     []inferior.Action
	}{
		{"vCont continue all", gdbFeatures, nil, "vCont;c", []inferior.Action{cont(-1, -1)}},
		{"vCont step one thread", gdbFeatures, nil, "vCont;s:p64.65;c:p64.-1",
			[]inferior.Action{step(100, 101), cont(100, -1)}},
		{"vCont bare thread ids", "qSupported", nil, "vCont;s:65;c", []inferior.Action{step(100, 101), cont(-1, -1)}},
		{"vCont signal in gdb's numbering", gdbFeatures, nil, "vCont;C1e:p64.64;c",
			[]inferior.Action{{Kind: inferior.Continue, Signal: int(unix.SIGUSR1), PID: 100, TID: 100}, cont(-1, -1)}},
		{"vCont any thread", gdbFeatures, nil, "vCont;s:p64.0", []inferior.Action{step(100, 100)}},
		{"vCont all processes", gdbFeatures, nil, "vCont;c:p-1.-1", []inferior.Action{cont(-1, -1)}},
		{"vCont all threads of any process", gdbFeatures, nil, "vCont;c:p0.-1", []inferior.Action{cont(-1, -1)}},
		{"c", gdbFeatures, nil, "c", []inferior.Action{cont(-1, -1)}},
		{"s steps the current thread, others run", gdbFeatures, []string{"Hgp64.65"}, "s",
			[]inferior.Action{step(100, 101), cont(-1, -1)}},
		{"s with Hc on one thread steps only it", gdbFeatures, []string{"Hcp64.65"}, "s",
			[]inferior.Action{step(100, 101)}},
		{"C delivers the signal to the current thread", gdbFeatures, nil, "C0b",
			[]inferior.Action{{Kind: inferior.Continue, Signal: int(unix.SIGSEGV), PID: 100, TID: 100}, cont(-1, -1)}},
		{"S with Hc-1", gdbFeatures, []string{"Hc-1"}, "S05",
			[]inferior.Action{{Kind: inferior.Step, Signal: int(unix.SIGTRAP), PID: 100, TID: 100}, cont(-1, -1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startSession(t, newFakeTarget(), Config{})
			h.negotiate(tt.features)
			for _, p := range tt.setup {
				h.expect(p, "OK")
			}
			if got := resumeWith(t, h, tt.packet); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("actions = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResumeAtAddress(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	resumeWith(t, h, "c401200")
	if calls := ft.called(); !strings.Contains(calls, "SetRegisters 100.100 rip=0x401200") {
		t.Errorf("calls = %q", calls)
	}
}

func TestResumeErrors(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("vCont?", "vCont;c;C;s;S;r")
	h.expect("vCont;c:p64.99", "E02")
	h.expect("vCont;C07", "E02") // SIGEMT: no Linux signal
	h.expect("vCont;t", "E02")
	h.expect("vCont;x", "E02")
	h.expect("vCont", "E01")
	h.expect("Czz", "E01")
	ft.mu.Lock()
	n := len(ft.resumes)
	ft.mu.Unlock()
	if n != 0 {
		t.Errorf("target resumed %d times after bad requests", n)
	}
}
