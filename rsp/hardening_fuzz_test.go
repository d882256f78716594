package rsp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"procgdb/inferior"
	"procgdb/internal/corpus"
)

// Fuzz targets for the decoders that had none, and for the session as a
// whole: whatever a client sends, a handler answers it (an empty, error,
// data or resume reply) and never panics. Inputs that once crashed live in
// testdata/hostile-packets.txt, which seeds FuzzDispatch and is replayed
// against a real procgdb by tests/hardening_test.go.

func FuzzUnescape(f *testing.F) {
	f.Add([]byte("a}]b"))
	f.Add([]byte("}"))
	f.Add([]byte("}}}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p := bytes.Clone(in)
		out, err := unescape(p)
		if err != nil {
			return
		}
		if len(out) > len(in) {
			t.Fatalf("unescape(%q) grew to %d bytes", in, len(out))
		}
		// Escaping again and unescaping gives the same bytes.
		var esc []byte
		for _, b := range out {
			if needsEscape[b] {
				esc = append(esc, escapeByte, b^escapeXor)
			} else {
				esc = append(esc, b)
			}
		}
		back, err := unescape(esc)
		if err != nil || !bytes.Equal(back, out) {
			t.Fatalf("re-escaped %q decodes to %q, %v", out, back, err)
		}
	})
}

func FuzzExpandRLE(f *testing.F) {
	f.Add([]byte("0* "), 64)
	f.Add([]byte("*~"), 64)
	f.Add([]byte("a*~b*~"), 100)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		if limit < 0 || limit > 1<<16 {
			return
		}
		out, err := expandRLE(in, max(limit, len(in)))
		if err != nil {
			return
		}
		if len(out) > max(limit, len(in)) {
			t.Fatalf("expandRLE(%q, %d) = %d bytes", in, limit, len(out))
		}
	})
}

func FuzzParseHexInt(f *testing.F) {
	f.Add([]byte("7fffffff"))
	f.Add([]byte("80000000"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseHexInt(in)
		if err != nil {
			return
		}
		if v < 0 || v > 1<<31-1 {
			t.Fatalf("parseHexInt(%q) = %d", in, v)
		}
	})
}

func FuzzParseRegRead(f *testing.F) {
	f.Add([]byte("10"))
	f.Add([]byte("ffffffff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if n, err := parseRegRead(in); err == nil && n < 0 {
			t.Fatalf("parseRegRead(%q) = %d", in, n)
		}
	})
}

func FuzzParseBinaryWrite(f *testing.F) {
	f.Add([]byte("1000,3:a:b"))
	f.Add([]byte("1000,ffffffffffffffff:"))
	f.Add([]byte(",:"))
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := parseBinaryWrite(in)
		if err != nil {
			return
		}
		if len(w.data) > len(in) {
			t.Fatalf("parseBinaryWrite(%q): %d bytes of data", in, len(w.data))
		}
	})
}

func FuzzParseSignal(f *testing.F) {
	f.Add([]byte("05"))
	f.Add([]byte("100"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if s, err := parseSignal(in); err == nil && (s < 0 || s > 0xff) {
			t.Fatalf("parseSignal(%q) = %d", in, s)
		}
	})
}

func FuzzParseFlag(f *testing.F) {
	f.Add([]byte("1"))
	f.Add([]byte("01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseFlag(in)
		if err == nil && string(in) != strconv.Itoa(map[bool]int{false: 0, true: 1}[v]) {
			t.Fatalf("parseFlag(%q) = %v", in, v)
		}
	})
}

func FuzzParseFileInt(f *testing.F) {
	f.Add([]byte("-1"))
	f.Add([]byte("-"))
	f.Add([]byte("-8000000000000000"))
	f.Add([]byte("7fffffffffffffff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseFileInt(in)
		if err != nil {
			return
		}
		if back, err := parseFileInt(appendFileInt(nil, v)); err != nil || back != v {
			t.Fatalf("parseFileInt(%q) = %d, which encodes back to %d, %v", in, v, back, err)
		}
	})
}

// FuzzClientReply runs the client's reply decoders on arbitrary replies.
func FuzzClientReply(f *testing.F) {
	f.Add("E01")
	f.Add("E.x")
	f.Add("0g")
	f.Fuzz(func(t *testing.T, r string) {
		_ = checkReply("m0,1", r)
		_, _ = decodeReplyHex("m", r)
	})
}

// fuzzConfig is a session configuration that enables every packet a fake
// target can serve.
func fuzzConfig() Config {
	return Config{
		TargetXML: []byte("<target/>"),
		Files:     func() (FileSystem, error) { return newFakeFS(), nil },
		Program:   "/bin/prog",
		Environ:   []string{"A=1"},
	}
}

// checkReplyKind fails unless r is a reply a handler may give.
func checkReplyKind(t *testing.T, p []byte, r reply) {
	t.Helper()
	switch r.kind {
	case replyEmpty, replyOK, replyData, replyNone:
	case replyError:
		if r.err == nil {
			t.Fatalf("%q: error reply without an error", p)
		}
	case replyResume:
		if len(r.actions) == 0 {
			t.Fatalf("%q: resume without actions", p)
		}
	default:
		t.Fatalf("%q: reply kind %d", p, r.kind)
	}
}

// FuzzDispatch sends a sequence of packets (separated by newlines) to a
// session on a fake extended-mode target, as the framing would hand them
// over: no handler may panic, and each gives a valid reply. The error
// reply is also encoded, as Serve would.
func FuzzDispatch(f *testing.F) {
	for _, p := range hostileCorpus(f) {
		// The over-long packets are the framing's business, and would
		// only slow the fuzzer down.
		if p.kind == corpusPacket && len(p.data) <= 4096 {
			f.Add(p.data)
		}
	}
	for _, s := range []string{
		"qSupported:multiprocess+;swbreak+\nHgp64.65\ng\nm10000,10",
		"!\nvRun;\nqfThreadInfo\nqsThreadInfo\nqsThreadInfo",
		"qXfer:features:read:target.xml:0,1\nqXfer:features:read:target.xml:1,ffffffffffffffff",
		"vCont;s:p64.65;c\nZ0,10000,1\nz0,10000,1",
		"QCatchSyscalls:1;1;2\nQThreadEvents:1\nqSupported:fork-events+",
		"vFile:open:2f62696e2f70726f67,0,0\nvFile:pread:0,ffffffffffffffff,0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lt := newLaunchTarget()
		s := NewSession(nil, lt, fuzzConfig())
		for _, p := range bytes.Split(in, []byte("\n")) {
			r := s.dispatch(p)
			checkReplyKind(t, p, r)
			if r.kind == replyError {
				_ = s.dialect.appendError(nil, r.err)
			}
			if r.kind == replyData && len(r.data) > readLimit+packetSize {
				t.Fatalf("%q: reply of %d bytes", p, len(r.data))
			}
		}
	})
}

// corpusKind says how a line of the hostile-packet corpus is sent.
type corpusKind int

const (
	// corpusPacket: a payload, framed with a good checksum; the reply must
	// be empty or an error.
	corpusPacket corpusKind = iota
	// corpusNak: raw bytes making up a packet the stub must refuse with
	// '-' (bad checksum).
	corpusNak
	// corpusRaw: raw bytes with no reply of their own (noise between
	// packets, a packet cut short by the next '$').
	corpusRaw
)

// corpusEntry is one line of testdata/hostile-packets.txt.
type corpusEntry struct {
	line int
	kind corpusKind
	data []byte
}

// hostileCorpus reads testdata/hostile-packets.txt (see the file for its
// format).
func hostileCorpus(tb testing.TB) []corpusEntry {
	tb.Helper()
	entries, err := corpus.Parse("testdata/hostile-packets.txt")
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]corpusEntry, len(entries))
	for i, e := range entries {
		out[i] = corpusEntry{line: e.Line, kind: corpusKind(e.Kind), data: e.Data}
	}
	return out
}

// TestHostileCorpusOnFakeTarget replays the corpus against a session on a
// fake target, on the wire: each packet gets the empty reply or an error,
// each bad packet '-', and '?' is answered after every one.
func TestHostileCorpusOnFakeTarget(t *testing.T) {
	corpus := hostileCorpus(t)
	if len(corpus) < 200 {
		t.Fatalf("the corpus has %d entries, want at least 200", len(corpus))
	}
	h := startSession(t, newFakeTarget(), Config{TargetXML: []byte("<target/>")})
	h.negotiate(gdbFeatures)
	for _, e := range corpus {
		switch e.kind {
		case corpusPacket:
			r := h.exchange(string(e.data))
			if r != "" && !isErrorReply(r) {
				t.Errorf("line %d %.60q: reply %.60q, want empty or an error", e.line, e.data, r)
			}
		case corpusNak:
			if err := h.c.WriteRaw(e.data); err != nil {
				t.Fatal(err)
			}
			if b, err := h.c.ReadAck(); err != nil || b != '-' {
				t.Errorf("line %d %.60q: ack %q, %v; want '-'", e.line, e.data, b, err)
			}
		case corpusRaw:
			if err := h.c.WriteRaw(e.data); err != nil {
				t.Fatal(err)
			}
		}
		if r := h.exchange("?"); !strings.HasPrefix(r, "T05") {
			t.Fatalf("line %d %.60q: '?' then got %.60q", e.line, e.data, r)
		}
	}
	if calls := h.ft.called(); calls != "" {
		t.Errorf("the corpus changed the target: %s", calls)
	}
}

// isErrorReply reports whether r is "E NN" or "E.text".
func isErrorReply(r string) bool {
	if strings.HasPrefix(r, "E.") {
		return true
	}
	if len(r) != 3 || r[0] != 'E' {
		return false
	}
	_, err := strconv.ParseUint(r[1:], 16, 8)
	return err == nil
}

// autoStopTarget is a launchTarget whose processes stop again as soon as
// they are resumed, so that a fuzzed session never waits for a stop.
type autoStopTarget struct{ *launchTarget }

func (a autoStopTarget) Resume([]inferior.Action) error { return nil }
func (a autoStopTarget) Interrupt() error               { return nil }
func (a autoStopTarget) WaitStop(ctx context.Context) (inferior.Event, bool, error) {
	return inferior.Event{Kind: inferior.EventBreakpoint, PID: fakePID, TID: fakePID}, true, nil
}

// FuzzServe feeds arbitrary bytes to a whole session on the wire
// (framing, acknowledgments, no-ack mode, interrupts, dispatch, resumes)
// and then ends the connection: Serve must return, promptly, without
// panicking, whatever came before.
func FuzzServe(f *testing.F) {
	f.Add([]byte("+$qSupported:multiprocess+#00$?#3f"))
	f.Add([]byte("$QStartNoAckMode#b0+$vCont;c#a8\x03$g#67$k#6b"))
	f.Add([]byte("$m10000,10#bd---$!#21$vRun;#00$$$?#3f\x03\x03$D#44"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := socketPair(t)
		// Serve turns a handler's panic into an error reply and a log
		// line (recover.go): the fuzzer must still see it.
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
		s := NewSession(b, autoStopTarget{newLaunchTarget()}, Config{TargetXML: []byte("<target/>"), Logger: logger})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = s.Serve(t.Context())
		}()
		// The client's side: read whatever comes, write the input, end.
		go func() { _, _ = io.Copy(io.Discard, a) }()
		_, _ = a.Write(in)
		_ = a.(*net.UnixConn).CloseWrite()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve did not return after the input ended: %q", in)
		}
		b.Close()
		a.Close()
		if strings.Contains(logs.String(), "handler panicked") {
			t.Fatalf("input %q: %s", in, logs.String())
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
