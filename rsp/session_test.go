package rsp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

var testXML = []byte(`<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture></target>`)

func TestEntryMatch(t *testing.T) {
	tests := []struct {
		prefix, packet string
		args           string
		ok             bool
	}{
		{"m", "m10,4", "10,4", true},
		{"qC", "qC", "", true},
		{"qC", "qCRC:10,4", "", false},
		{"qSupported", "qSupported:multiprocess+", ":multiprocess+", true},
		{"qSupported", "qSupportedX", "", false},
		{"vCont", "vCont;c", ";c", true},
		{"vCont", "vContX", "", false},
		{"qXfer:auxv:read:", "qXfer:auxv:read::0,10", ":0,10", true},
		{"vKill;", "vKill;64", "64", true},
		{"D", "D;64", ";64", true},
	}
	for _, tt := range tests {
		e := entry{prefix: tt.prefix}
		args, ok := e.match([]byte(tt.packet))
		if ok != tt.ok || (ok && string(args) != tt.args) {
			t.Errorf("entry %q matching %q = %q, %v; want %q, %v", tt.prefix, tt.packet, args, ok, tt.args, tt.ok)
		}
	}
}

// TestDispatchTable checks the table itself: sorted longest first, no
// prefix twice, every handler set.
func TestDispatchTable(t *testing.T) {
	table := packetTable()
	seen := map[string]bool{}
	for i, e := range table {
		if seen[e.prefix] {
			t.Errorf("prefix %q appears twice", e.prefix)
		}
		seen[e.prefix] = true
		if e.handle == nil {
			t.Errorf("prefix %q has no handler", e.prefix)
		}
		if i > 0 && len(e.prefix) > len(table[i-1].prefix) {
			t.Errorf("prefix %q sorted after the shorter %q", e.prefix, table[i-1].prefix)
		}
	}
}

// supportedFeatures splits a qSupported reply.
func supportedFeatures(reply string) []string {
	return strings.Split(reply, ";")
}

func TestQSupportedNegotiation(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		cfg     Config
		want    []string
		notWant []string
	}{
		{
			name:    "gdb",
			query:   gdbFeatures + ";error-message+",
			cfg:     Config{TargetXML: testXML, Attached: func(int) bool { return false }},
			want:    []string{"PacketSize=100000", "multiprocess+", "swbreak+", "error-message+", "QStartNoAckMode+", "vContSupported+", "binary-upload+", "qXfer:features:read+", "qXfer:auxv:read+", "qXfer:exec-file:read+", "qXfer:threads:read+", "qXfer:libraries-svr4:read+", "qXfer:siginfo:read+", "QPassSignals+", "QProgramSignals+"},
			notWant: []string{"hwbreak+", "fork-events+", "QThreadEvents+", "QNonStop+"},
		},
		{
			name:    "lldb",
			query:   "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+",
			cfg:     Config{TargetXML: testXML},
			want:    []string{"multiprocess+", "qXfer:features:read+"},
			notWant: []string{"swbreak+", "error-message+", "fork-events+"},
		},
		{
			name:    "nothing offered, no target description",
			query:   "qSupported",
			want:    []string{"PacketSize=100000", "QStartNoAckMode+"},
			notWant: []string{"multiprocess+", "swbreak+", "qXfer:features:read+"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startSession(t, newFakeTarget(), tt.cfg)
			got := supportedFeatures(h.exchange(tt.query))
			for _, f := range tt.want {
				if !slices.Contains(got, f) {
					t.Errorf("reply %q lacks %q", got, f)
				}
			}
			for _, f := range tt.notWant {
				if slices.Contains(got, f) {
					t.Errorf("reply %q has %q", got, f)
				}
			}
		})
	}
}

// TestSupportedFeaturesHaveHandlers is the drift test: every packet
// feature in the qSupported reply belongs to a table entry whose packet
// gets a non-empty reply, and every entry's feature is advertised exactly
// when the entry is offered, for a plain Target and for one that is also
// a Launcher and an EventTarget.
func TestSupportedFeaturesHaveHandlers(t *testing.T) {
	cfg := Config{TargetXML: testXML, Attached: func(int) bool { return true }}
	targets := []struct {
		name string
		new  func() (Target, *fakeTarget)
	}{
		{"plain", func() (Target, *fakeTarget) { ft := newFakeTarget(); return ft, ft }},
		{"launcher", func() (Target, *fakeTarget) { lt := newLaunchTarget(); return lt, lt.fakeTarget }},
		{"siginfo writer", func() (Target, *fakeTarget) { st := newSiginfoTarget(); return st, st.fakeTarget }},
	}
	negotiated := []string{"multiprocess+", "swbreak+", "error-message+", "fork-events+", "vfork-events+", "exec-events+", "no-resumed+"}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			target, ft := tt.new()
			h := serveTarget(t, target, ft, cfg)
			advertised := supportedFeatures(h.exchange(gdbFeatures + ";error-message+"))
			probe := NewSession(new(bytes.Buffer), target, cfg)
			byFeature := map[string]entry{}
			for _, e := range packetTable() {
				if e.feature == "" {
					continue
				}
				byFeature[e.feature] = e
				if offered := probe.offered(&e); offered != slices.Contains(advertised, e.feature) {
					t.Errorf("entry %q offered %v but %q advertised %v", e.prefix, offered, e.feature, !offered)
				}
			}
			for _, f := range advertised {
				if strings.HasPrefix(f, "PacketSize=") || slices.Contains(negotiated, f) {
					continue
				}
				e, ok := byFeature[f]
				if !ok {
					t.Errorf("%q advertised without a table entry", f)
					continue
				}
				// Each probe gets a session of its own: QStartNoAckMode
				// changes the connection.
				target, ft := tt.new()
				p := serveTarget(t, target, ft, cfg)
				p.negotiate(gdbFeatures)
				if r := p.exchange(e.prefix); r == "" {
					t.Errorf("%q advertised but %q gets the empty reply", f, e.prefix)
				}
			}
		})
	}
}

func TestDisabledPacketIsUnsupported(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.expect("qXfer:features:read:target.xml:0,1000", "")
	h.expect("qAttached", "")
}

func TestUnknownAndMalformedPackets(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	for _, p := range []string{"vMustReplyEmpty", "qTStatus", "qOffsets", "!", "QNonStop:1", "qTfP", "jProcgdbNoSuch", ""} {
		h.expect(p, "")
	}
	h.expect("mzz,4", "E01")
	h.expect("m10", "E01")
	h.expect("kxyz", "E01")
	// The session goes on.
	h.expect("qC", "QCp64.64")
}

func TestErrorMessages(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures + ";error-message+")
	h.expect("m10,zz", `E.m: length "zz": invalid hex digit`)
	h.expect("Hgp64.999", "E.H: p64.999: unknown thread")
}

func TestBadChecksumChangesNothing(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	if err := h.c.WriteRaw([]byte("$Z0,10000,1#00")); err != nil {
		t.Fatal(err)
	}
	if b, err := h.c.ReadAck(); err != nil || b != '-' {
		t.Fatalf("ack = %q, %v; want '-'", b, err)
	}
	h.expect("?", "T05thread:64;"+expedite("1000fe7f00000000", "0000fe7f00000000", "6410400000000000")+"core:0;")
	if calls := h.ft.called(); calls != "" {
		t.Errorf("target calls after a bad checksum: %q", calls)
	}
}

func TestOverlongPacket(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	long := "X10000,0:" + strings.Repeat("a", readLimit)
	if r := h.exchange(long); r != "E01" {
		t.Errorf("over-long packet: got %.20q, want E01", r)
	}
	h.expect("qC", "QCp64.64")
}

func TestNoAckMode(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	if err := h.c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	// gdb acknowledges the OK, after which nothing is acknowledged.
	if err := h.c.WriteRaw([]byte("+")); err != nil {
		t.Fatal(err)
	}
	h.expect("qC", "QC64")
	// A bad checksum now gets no '-': the packet is dropped, the next
	// one answered.
	if err := h.c.WriteRaw([]byte("$qC#00")); err != nil {
		t.Fatal(err)
	}
	h.expect("qfThreadInfo", "m64,65")
}

func TestHaltReasonAndThreads(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	h.expect("?", "T05thread:p64.64;"+expedite("1000fe7f00000000", "0000fe7f00000000", "6410400000000000")+"core:0;")
	h.expect("qC", "QCp64.64")
	h.expect("qfThreadInfo", "mp64.64,p64.65")
	h.expect("qsThreadInfo", "l")
	h.expect("Tp64.65", "OK")
	h.expect("Tp64.66", "E02")
	h.expect("Tp65.65", "E02")
	h.expect("Hgp64.65", "OK")
	h.expect("qC", "QCp64.65")
	h.expect("Hgp64.66", "E02")
	h.expect("qC", "QCp64.65")
	h.expect("Hgp0.0", "OK")
	h.expect("qC", "QCp64.64")
	h.expect("Hc-1", "OK")
	h.expect("Hm0", "E01")
}

func TestThreadInfoPaging(t *testing.T) {
	ft := newFakeTarget()
	var many []int
	for tid := 1000; tid < 1000+150000; tid++ {
		many = append(many, tid)
	}
	ft.threads[fakePID] = many
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	var got []string
	r := h.exchange("qfThreadInfo")
	pages := 0
	for r != "l" {
		if r[0] != 'm' || len(r) > packetSize {
			t.Fatalf("page %d: %.40q (%d bytes)", pages, r, len(r))
		}
		got = append(got, strings.Split(r[1:], ",")...)
		pages++
		r = h.exchange("qsThreadInfo")
	}
	if len(got) != len(many) || pages < 2 {
		t.Errorf("got %d threads in %d pages, want %d in several", len(got), pages, len(many))
	}
}

func TestQAttached(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{Attached: func(pid int) bool { return pid == fakePID }})
	h.negotiate(gdbFeatures)
	h.expect("qAttached:64", "1")
	h.expect("qAttached:65", "0")
	h.expect("qAttached", "1")
	h.expect("qAttached:zz", "E01")
}

func TestPassSignals(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	// gdb's 14 (SIGALRM), 1e (SIGUSR1), 07 (SIGEMT: no Linux signal), 2d (SIG33).
	passed := func(packet string, want ...int) {
		t.Helper()
		h.expect(packet, "OK")
		ft.mu.Lock()
		got := ft.pass
		ft.mu.Unlock()
		if !slices.Equal(got, want) {
			t.Errorf("%s: pass signals = %v, want %v", packet, got, want)
		}
	}
	passed("QPassSignals:e;1e;7;2d;", int(unix.SIGUSR1), int(unix.SIGALRM), 33)
	// gdb passes SIGIO (17) and SIGPOLL (21) by default; after `handle
	// SIGIO stop` it lists SIGPOLL alone, which does not pass SIGIO.
	passed("QPassSignals:e;17;21;", int(unix.SIGALRM), int(unix.SIGIO))
	passed("QPassSignals:e;21;", int(unix.SIGALRM))
	passed("QPassSignals:", []int(nil)...)
	h.expect("QPassSignals:zz", "E01")
	h.expect("QProgramSignals:e;1e", "OK")
	h.expect("qSymbol::", "OK")
}

func TestInterruptWhileRunning(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	if err := h.c.Send("vCont;c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resume", ft.resumed)
	if err := h.c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	r, err := h.c.Receive()
	if err != nil || !strings.HasPrefix(r, "T02thread:p64.64;") {
		t.Fatalf("stop reply = %q, %v; want SIGINT", r, err)
	}
	if !strings.Contains(ft.called(), "Interrupt") {
		t.Errorf("Target.Interrupt not called: %q", ft.called())
	}
}

// TestInterruptCrossingStop: an interrupt byte that arrives after the
// target stopped by itself (the client sent it while the stop reply was on
// its way) is gdb's interrupt all the same: the next resume reports it as
// a SIGINT stop, without resuming anything, and only once. lldb takes the
// stop it got for the answer, and the byte is forgotten.
func TestInterruptCrossingStop(t *testing.T) {
	for _, tt := range []struct {
		name, features, lldb string
		pending              bool
	}{
		{"gdb", gdbFeatures, "", true},
		{"lldb", lldbFeatures, "QThreadSuffixSupported", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTarget()
			h := startSession(t, ft, Config{})
			h.negotiate(tt.features)
			if tt.lldb != "" {
				h.expect(tt.lldb, "OK")
			}
			bp := inferior.Event{Kind: inferior.EventBreakpoint, PID: fakePID, TID: fakePID + 1}
			resume := func(p string) string {
				t.Helper()
				if err := h.c.Send(p); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "resume", ft.resumed)
				ft.stops <- bp
				r, err := h.c.Receive()
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if r := resume("vCont;c"); !strings.HasPrefix(r, "T05") {
				t.Fatalf("stop reply = %q, want SIGTRAP", r)
			}
			if err := h.c.Interrupt(); err != nil {
				t.Fatal(err)
			}
			if tt.pending {
				// The interrupt byte comes before the packet: the
				// session has seen it by then.
				if r := h.exchange("vCont;s:p64.65"); !strings.HasPrefix(r, "T02thread:p64.65;") {
					t.Errorf("vCont;s:p64.65 with an interrupt pending: got %q, want SIGINT of that thread", r)
				}
				if n := len(ft.resumes); n != 1 {
					t.Errorf("the target was resumed %d times, want once: the SIGINT stop runs nothing", n)
				}
			}
			if r := resume("vCont;c"); !strings.HasPrefix(r, "T05") {
				t.Errorf("stop reply = %q, want SIGTRAP: the interrupt was reported twice", r)
			}
		})
	}
}

func TestPacketWhileRunningIgnored(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	if err := h.c.Send("c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resume", ft.resumed)
	if err := h.c.Send("g"); err != nil {
		t.Fatal(err)
	}
	// The ignored packet is still acknowledged: after '+', no reply.
	if b, err := h.c.ReadAck(); err != nil || b != '+' {
		t.Fatalf("ack of the packet sent while running: %q, %v", b, err)
	}
	// The session sees frames in order, so the interrupt (whose stop
	// the fake reports on thread 100) comes after the ignored packet.
	if err := h.c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	r, err := h.c.Receive()
	if err != nil || !strings.HasPrefix(r, "T02thread:p64.64;") {
		t.Fatalf("stop reply = %q, %v", r, err)
	}
	h.expect("qC", "QCp64.64")
}

func TestStopMovesGeneralThread(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("Hgp64.64", "OK")
	ft.stops <- inferior.Event{Kind: inferior.EventBreakpoint, PID: fakePID, TID: fakePID + 1}
	r := h.exchange("vCont;c")
	if !strings.HasPrefix(r, "T05thread:p64.65;") || !strings.Contains(r, "swbreak:;") {
		t.Fatalf("stop reply = %q", r)
	}
	// The client assumes the general thread follows the event.
	h.expect("qC", "QCp64.65")
	h.expect("?", r)
}

func TestDisconnectWhileRunning(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	if err := h.c.Send("c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resume", ft.resumed)
	h.client.Close()
	if err := waitFor(t, "the end of WaitStop", ft.waitEnded); !errors.Is(err, errInput) {
		t.Errorf("WaitStop ended with %v, want it to return for the connection's end", err)
	}
	if out, err := h.outcome(); out != OutcomeDisconnected || err != nil {
		t.Errorf("Serve = %v, %v; want disconnected", out, err)
	}
}

func TestContextCancelEndsServe(t *testing.T) {
	ft := newFakeTarget()
	a, b := socketPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan served, 1)
	go func() {
		out, err := NewSession(b, ft, Config{}).Serve(ctx)
		done <- served{out, err}
	}()
	c := NewClient(a)
	if err := c.Send("c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resume", ft.resumed)
	cancel()
	s := waitFor(t, "Serve", done)
	if s.out != OutcomeDisconnected || !errors.Is(s.err, context.Canceled) {
		t.Errorf("Serve = %v, %v", s.out, s.err)
	}
	if err := waitFor(t, "the end of Wait", ft.waitEnded); err == nil {
		t.Error("Wait was not cancelled")
	}
}

func TestExit(t *testing.T) {
	tests := []struct {
		name     string
		features string
		ev       inferior.Event
		want     string
	}{
		{"exit code", gdbFeatures, inferior.Event{Kind: inferior.EventExited, PID: fakePID, ExitCode: 3}, "W03;process:64"},
		{"signal", "qSupported", inferior.Event{Kind: inferior.EventKilled, PID: fakePID, Signal: int(unix.SIGSEGV)}, "X0b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTarget()
			h := startSession(t, ft, Config{})
			h.negotiate(tt.features)
			ft.stops <- tt.ev
			h.expect("vCont;c", tt.want)
			if out, err := h.outcome(); out != OutcomeExited || err != nil {
				t.Errorf("Serve = %v, %v; want exited", out, err)
			}
		})
	}
}

func TestKill(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	// gdb reads no reply to k; lldb waits for one.
	h.expect("k", "X09")
	if out, err := h.outcome(); out != OutcomeKilled || err != nil {
		t.Errorf("Serve = %v, %v; want killed", out, err)
	}
	if !strings.Contains(ft.called(), "Kill 100") {
		t.Errorf("calls %q, want Kill 100", ft.called())
	}
}

func TestVKill(t *testing.T) {
	t.Run("multiprocess", func(t *testing.T) {
		ft := newFakeTarget()
		h := startSession(t, ft, Config{})
		h.negotiate(gdbFeatures)
		h.expect("vKill;65", "E02")
		h.expect("vKill;64", "OK")
		if out, err := h.outcome(); out != OutcomeKilled || err != nil {
			t.Errorf("Serve = %v, %v; want killed", out, err)
		}
	})
	t.Run("gdb's made-up pid without multiprocess", func(t *testing.T) {
		ft := newFakeTarget()
		h := startSession(t, ft, Config{})
		h.expect("vKill;a410", "OK")
		if out, err := h.outcome(); out != OutcomeKilled || err != nil {
			t.Errorf("Serve = %v, %v; want killed", out, err)
		}
	})
}

func TestDetach(t *testing.T) {
	for _, packet := range []string{"D", "D;64"} {
		t.Run(packet, func(t *testing.T) {
			ft := newFakeTarget()
			h := startSession(t, ft, Config{})
			h.negotiate(gdbFeatures)
			h.expect("D;65", "E02")
			h.expect(packet, "OK")
			if out, err := h.outcome(); out != OutcomeDetached || err != nil {
				t.Errorf("Serve = %v, %v; want detached", out, err)
			}
			if !strings.Contains(ft.called(), "Detach 100") {
				t.Errorf("calls %q, want Detach 100", ft.called())
			}
		})
	}
}

func TestClientDisconnectWhileStopped(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.expect("qC", "QC64")
	h.client.Close()
	if out, err := h.outcome(); out != OutcomeDisconnected || err != nil {
		t.Errorf("Serve = %v, %v; want disconnected", out, err)
	}
}

// TestServeLeavesNoGoroutines checks that once Serve has returned and the
// caller closed the connection, the session's goroutines are gone.
func TestServeLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	ft := newFakeTarget()
	a, b := socketPair(t)
	done := make(chan served, 1)
	go func() {
		out, err := NewSession(b, ft, Config{}).Serve(t.Context())
		done <- served{out, err}
	}()
	c := NewClient(a)
	if r, err := c.Exchange("D"); err != nil || r != "OK" {
		t.Fatalf("D = %q, %v", r, err)
	}
	waitFor(t, "Serve", done)
	b.Close()
	a.Close()
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestRemoteDebugLogsPackets(t *testing.T) {
	var log syncBuffer
	var level slog.LevelVar
	wire := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: &level}))
	h := startSession(t, newFakeTarget(), Config{WireLog: wire})
	h.expect("qC", "QC64")
	// Switched off while the session runs, the log stays quiet.
	level.Set(slog.LevelWarn)
	h.expect("qfThreadInfo", "m64,65")
	h.client.Close()
	h.outcome()
	for _, want := range []string{`dir=in packet=qC`, `dir=out packet=$QC64#`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log.String())
		}
	}
	if strings.Contains(log.String(), "qfThreadInfo") {
		t.Errorf("packets logged while the log was off:\n%s", log.String())
	}
}

// nonStopTarget is a fakeTarget that takes non-stop mode, with stops
// queued for NextStop as the tracer's loop queues them.
type nonStopTarget struct {
	*fakeTarget
	queued []inferior.Event
}

func (nt *nonStopTarget) SetNonStop(bool) error          { return nil }
func (nt *nonStopTarget) Stop(inferior.ThreadID) error   { return nil }
func (nt *nonStopTarget) Stopped(inferior.ThreadID) bool { return false }

func (nt *nonStopTarget) NextStop() (inferior.Event, bool) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if len(nt.queued) == 0 {
		return inferior.Event{}, false
	}
	ev := nt.queued[0]
	nt.queued = nt.queued[1:]
	return ev, true
}

// TestNonStopLastExitQueued: the last process ended while the client was
// draining earlier stops (the target has no process left, and its exit
// waits in the queue): the exit is still notified, where the session used
// to wait for the client, and the client for it.
func TestNonStopLastExitQueued(t *testing.T) {
	ft := newFakeTarget()
	nt := &nonStopTarget{fakeTarget: ft}
	h := serveTarget(t, nt, ft, Config{})
	h.negotiate(gdbFeatures)
	ft.mu.Lock()
	ft.procs = nil
	nt.queued = []inferior.Event{{Kind: inferior.EventExited, PID: fakePID, ExitCode: 13}}
	ft.mu.Unlock()
	h.expect("QNonStop:1", "OK")
	note := make(chan string, 1)
	go func() {
		n, err := h.c.Notification()
		if err != nil {
			n = err.Error()
		}
		note <- n
	}()
	if n := waitFor(t, "the exit's notification", note); n != "Stop:W0d;process:64" {
		t.Errorf("notification %q, want Stop:W0d;process:64", n)
	}
	h.expect("vStopped", "OK")
}
