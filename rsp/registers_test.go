package rsp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseRegRead(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  error
	}{
		{"0", 0, nil},
		{"10", 16, nil},
		{"4b", 75, nil},
		{"", 0, errHexEmpty},
		{"-1", 0, errHexDigit},
		{"100000000", 0, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseRegRead([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseRegRead(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseRegWrite(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		data string
		err  error
	}{
		{"10=0011223344556677", 16, "\x00\x11\x22\x33\x44\x55\x66\x77", nil},
		{"0=", 0, "", nil},
		{"10", 0, "", errMalformed},
		{"=00", 0, "", errHexEmpty},
		{"10=0", 0, "", errHexOdd},
		{"10=zz", 0, "", errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseRegWrite([]byte(tt.in))
		if !errors.Is(err, tt.err) || (err == nil && (got.n != tt.n || string(got.data) != tt.data)) {
			t.Errorf("parseRegWrite(%q) = %d %q, %v; want %d %q, %v", tt.in, got.n, got.data, err, tt.n, tt.data, tt.err)
		}
	}
}

func FuzzParseRegWrite(f *testing.F) {
	f.Add([]byte("10=0011223344556677"))
	f.Add([]byte("1=="))
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := parseRegWrite(in)
		if err != nil {
			return
		}
		again, err := parseRegWrite(appendRegWrite(nil, w))
		if err != nil || again.n != w.n || !bytes.Equal(again.data, w.data) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, w)
		}
	})
}

func TestRegisterPackets(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)

	g := h.exchange("g")
	// The fake's layout has no AVX: 60 registers, the general ones first.
	if len(g) < 2*8*17 || g[2*8*6:2*8*8] != "1000fe7f000000000000fe7f00000000" {
		t.Fatalf("g = %.300q", g)
	}
	h.expect("p10", "6410400000000000")
	h.expect("p7", "0000fe7f00000000")
	// Registers of the XSAVE area (st0 is 16) need it loaded: p works.
	if r := h.exchange("p18"); len(r) != 20 {
		t.Errorf("p18 (st2) = %q, want 10 bytes", r)
	}
	h.expect("p999", "E02")
	h.expect("pzz", "E01")

	h.expect("P10=3611400000000000", "OK")
	h.expect("p10", "3611400000000000")
	h.expect("P10=36", "E01")
	h.expect("P999=00", "E02")
	h.expect("P10", "E01")

	// Hg selects the thread g and p apply to.
	h.expect("Hgp64.65", "OK")
	h.expect("p10", "6510400000000000")

	// G writes back what g read (with rip changed in the middle).
	g = h.exchange("g")
	g2 := g[:2*8*16] + "efbeadde00000000" + g[2*8*17:]
	h.expect("G"+g2, "OK")
	h.expect("p10", "efbeadde00000000")
	h.expect("G0", "E01")
	if calls := ft.called(); !strings.Contains(calls, "SetRegisters 100.101 rip=0xdeadbeef") {
		t.Errorf("calls = %q", calls)
	}
}

func TestRegistersOfGoneThread(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("Hgp64.65", "OK")
	ft.mu.Lock()
	ft.threads[fakePID] = []int{fakePID}
	ft.mu.Unlock()
	h.expect("g", "E03")
}

func BenchmarkReadRegisters(b *testing.B) {
	a, c := socketPair(b)
	go NewSession(c, newFakeTarget(), Config{}).Serve(b.Context())
	cl := NewClient(a)
	if err := cl.StartNoAck(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := cl.Exchange("g"); err != nil {
			b.Fatal(err)
		}
	}
}
