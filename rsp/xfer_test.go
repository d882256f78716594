package rsp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"procgdb/inferior"
)

func TestParseXfer(t *testing.T) {
	tests := []struct {
		in   string
		want xferRead
		err  error
	}{
		{"target.xml:0,ffb", xferRead{"target.xml", 0, 0xffb}, nil},
		{":1000,1000", xferRead{"", 0x1000, 0x1000}, nil},
		{"start=0x1;prev=0x2:0,fff", xferRead{"start=0x1;prev=0x2", 0, 0xfff}, nil},
		{"a:b:0,1", xferRead{"a:b", 0, 1}, nil},
		{"target.xml", xferRead{}, errMalformed},
		{"target.xml:0", xferRead{}, errMalformed},
		{"target.xml:,1", xferRead{}, errHexEmpty},
		{"target.xml:0,x", xferRead{}, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseXfer([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseXfer(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseXferWrite(t *testing.T) {
	tests := []struct {
		in   string
		want xferWrite
		err  error
	}{
		{":10:\x66\x06", xferWrite{"", 0x10, []byte{0x66, 6}}, nil},
		{":0:", xferWrite{"", 0, []byte{}}, nil},
		{"annex:4:a:b:c", xferWrite{"annex", 4, []byte("a:b:c")}, nil},
		{":ffffffffffffffff:x", xferWrite{"", 1<<64 - 1, []byte("x")}, nil},
		{"", xferWrite{}, errMalformed},
		{":10", xferWrite{}, errMalformed},
		{"annex", xferWrite{}, errMalformed},
		{"::x", xferWrite{}, errHexEmpty},
		{":zz:x", xferWrite{}, errHexDigit},
		{":10000000000000000:x", xferWrite{}, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseXferWrite([]byte(tt.in))
		if !errors.Is(err, tt.err) || got.annex != tt.want.annex || got.offset != tt.want.offset || !bytes.Equal(got.data, tt.want.data) {
			t.Errorf("parseXferWrite(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseXferWrite(f *testing.F) {
	f.Add([]byte(":10:\x66\x06"))
	f.Add([]byte("annex:4:a:b"))
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := parseXferWrite(in)
		if err != nil {
			return
		}
		again, err := parseXferWrite(appendXferWrite(nil, w))
		if err != nil || again.annex != w.annex || again.offset != w.offset || !bytes.Equal(again.data, w.data) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, w)
		}
	})
}

// siginfoTarget is a fake target whose threads' siginfo can be written.
type siginfoTarget struct {
	*fakeTarget
	infos map[inferior.ThreadID][]byte
}

func newSiginfoTarget() siginfoTarget {
	return siginfoTarget{newFakeTarget(), map[inferior.ThreadID][]byte{}}
}

func (st siginfoTarget) Siginfo(t inferior.ThreadID) ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if info, ok := st.infos[t]; ok {
		return info, nil // the target's own buffer: the session must copy it
	}
	info := make([]byte, 128)
	info[0] = byte(t.TID)
	return info, nil
}

func (st siginfoTarget) SetSiginfo(t inferior.ThreadID, info []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.record("SetSiginfo %d.%d %x", t.PID, t.TID, info)
	st.infos[t] = info
	return nil
}

func TestXferSiginfoWrite(t *testing.T) {
	st := newSiginfoTarget()
	h := serveTarget(t, st, st.fakeTarget, Config{})
	if r := h.exchange(gdbFeatures); !slices.Contains(supportedFeatures(r), "qXfer:siginfo:write+") {
		t.Fatalf("qSupported: %q lacks qXfer:siginfo:write+", r)
	}
	h.expect("Hgp64.65", "OK")
	// gdb writes one field at its offset: si_errno, then si_addr with
	// bytes the framing escapes.
	h.expect("qXfer:siginfo:write::4:\x9a\x02\x00\x00", "4")
	h.expect("qXfer:siginfo:write::10:}#$*\x00\x00\x00\x00", "8")
	want := make([]byte, 128)
	want[0] = 101
	copy(want[4:], "\x9a\x02\x00\x00")
	copy(want[0x10:], "}#$*")
	if got := h.exchange("qXfer:siginfo:read::0,1000"); got != "l"+string(want) {
		t.Errorf("siginfo after the writes: %q, want %q", got, want)
	}
	// The other thread's is untouched; writes stop at the end.
	h.expect("Hgp64.64", "OK")
	h.expect("qXfer:siginfo:write::7e:abcd", "2")
	if got := h.exchange("qXfer:siginfo:read::7c,10"); got != "l\x00\x00ab" {
		t.Errorf("siginfo's end after a write past it: %q", got)
	}
	before := st.called()
	for _, bad := range []struct{ packet, reply string }{
		{"qXfer:siginfo:write::81:x", "E01"},
		{"qXfer:siginfo:write::80:x", "E01"},
		{"qXfer:siginfo:write:x:0:x", "E02"},
		{"qXfer:siginfo:write::zz:x", "E01"},
		{"qXfer:siginfo:write::0", "E01"},
	} {
		h.expect(bad.packet, bad.reply)
	}
	if calls := st.called(); calls != before {
		t.Errorf("bad writes reached the target: %s", strings.TrimPrefix(calls, before))
	}
	h.expect("qXfer:siginfo:write::80:", "0")
}

func TestXferSiginfoWriteUnsupported(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	if r := h.exchange(gdbFeatures); strings.Contains(r, "siginfo:write") {
		t.Errorf("qSupported: %q offers siginfo writes without a SiginfoWriter", r)
	}
	h.expect("qXfer:siginfo:write::0:x", "")
}

func FuzzParseXfer(f *testing.F) {
	f.Add([]byte("target.xml:0,ffb"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseXfer(in)
		if err != nil {
			return
		}
		again, err := parseXfer(appendXfer(nil, r))
		if err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func TestLibrariesXML(t *testing.T) {
	got, err := librariesXML(0x7f0000001000, []inferior.Library{
		{Name: "/lib/x86_64-linux-gnu/libc.so.6", LM: 0x7f0000002000, Addr: 0x7f0000100000, LD: 0x7f0000300000},
		{Name: `/tmp/a&b<"c">`, LM: 0x10, Addr: 0, LD: 0x20},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `<library-list-svr4 version="1.0" main-lm="0x7f0000001000">
<library name="/lib/x86_64-linux-gnu/libc.so.6" lm="0x7f0000002000" l_addr="0x7f0000100000" l_ld="0x7f0000300000" lmid="0x0"/>
<library name="/tmp/a&amp;b&lt;&#34;c&#34;&gt;" lm="0x10" l_addr="0x0" l_ld="0x20" lmid="0x0"/>
</library-list-svr4>
`
	if string(got) != want {
		t.Errorf("librariesXML =\n%s\nwant\n%s", got, want)
	}
	empty, err := librariesXML(0, nil)
	if err != nil || string(empty) != "<library-list-svr4 version=\"1.0\">\n</library-list-svr4>\n" {
		t.Errorf("librariesXML of nothing = %q, %v", empty, err)
	}
}

func TestXferWindows(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{TargetXML: testXML})
	h.negotiate(gdbFeatures)
	n := len(testXML)
	h.expect("qXfer:features:read:target.xml:0,10", "m"+string(testXML[:0x10]))
	h.expect("qXfer:features:read:target.xml:10,10", "m"+string(testXML[0x10:0x20]))
	h.expect(fmt.Sprintf("qXfer:features:read:target.xml:%x,1000", n-3), "l"+string(testXML[n-3:]))
	h.expect(fmt.Sprintf("qXfer:features:read:target.xml:%x,1000", n), "l")
	h.expect(fmt.Sprintf("qXfer:features:read:target.xml:%x,1000", n+1), "E01")
	h.expect("qXfer:features:read:i386-64bit.xml:0,1000", "E02")
	h.expect("qXfer:features:read:target.xml:0", "E01")
	// The whole document through the client.
	if doc, err := h.c.ReadXfer("features", "target.xml"); err != nil || !bytes.Equal(doc, testXML) {
		t.Errorf("ReadXfer = %q, %v", doc, err)
	}
}

func TestXferObjects(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	read := func(object, annex string) string {
		t.Helper()
		doc, err := h.c.ReadXfer(object, annex)
		if err != nil {
			t.Fatalf("ReadXfer(%s, %s): %v", object, annex, err)
		}
		return string(doc)
	}
	if got := read("auxv", ""); got != "auxv of 100" {
		t.Errorf("auxv = %q", got)
	}
	if got := read("exec-file", ""); got != "/proc/100/exe" {
		t.Errorf("exec-file = %q", got)
	}
	if got := read("exec-file", "64"); got != "/proc/100/exe" {
		t.Errorf("exec-file of 64 = %q", got)
	}
	wantThreads := `<?xml version="1.0"?>
<threads>
<thread id="p64.64" core="0" name="w&lt;100&gt;"/>
<thread id="p64.65" core="1" name="w&lt;101&gt;"/>
</threads>
`
	if got := read("threads", ""); got != wantThreads {
		t.Errorf("threads =\n%s\nwant\n%s", got, wantThreads)
	}
	if got := read("libraries-svr4", ""); !strings.Contains(got, `main-lm="0x1000"`) || !strings.Contains(got, `<library name="/lib/libc.so.6" lm="0x2000" l_addr="0x3000" l_ld="0x4000" lmid="0x0"/>`) {
		t.Errorf("libraries-svr4 = %s", got)
	}
	h.expect("Hgp64.65", "OK")
	if got := read("siginfo", ""); len(got) != 128 || got[0] != 101 {
		t.Errorf("siginfo = %q, want 128 bytes of thread 101", got)
	}
	h.expect("qXfer:exec-file:read:65:0,100", "E02")
	h.expect("qXfer:auxv:read:x:0,100", "E02")
	h.expect("qXfer:osdata:read::0,100", "")
}

// TestXferSnapshot checks that a generated document is read from one
// snapshot: a thread that appears between windows does not shift them.
func TestXferSnapshot(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	first := h.exchange("qXfer:threads:read::0,20")
	ft.mu.Lock()
	ft.threads[fakePID] = []int{99, fakePID, fakePID + 1}
	ft.mu.Unlock()
	rest := h.exchange("qXfer:threads:read::20,1000")
	if !strings.Contains(first[1:]+rest[1:], `id="64"`) || strings.Contains(rest, `id="63"`) {
		t.Errorf("windows mixed two snapshots: %q + %q", first, rest)
	}
}
