package rsp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseMemRead(t *testing.T) {
	tests := []struct {
		in   string
		want memRead
		err  error
	}{
		{"0,0", memRead{0, 0}, nil},
		{"7fff0000,4000", memRead{0x7fff0000, 0x4000}, nil},
		{"ffffffffffffffff,ffffffff", memRead{1<<64 - 1, 0xffffffff}, nil},
		{"", memRead{}, errMalformed},
		{"1000", memRead{}, errMalformed},
		{",4", memRead{}, errHexEmpty},
		{"10,", memRead{}, errHexEmpty},
		{"1g,4", memRead{}, errHexDigit},
		{"10,4x", memRead{}, errHexDigit},
		{"10000000000000000,1", memRead{}, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseMemRead([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseMemRead(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseMemReadNamesField(t *testing.T) {
	_, err := parseMemRead([]byte("10,zz"))
	if err == nil || err.Error() != `length "zz": invalid hex digit` {
		t.Errorf("error = %v, want it to name the length field", err)
	}
}

func TestParseMemWrite(t *testing.T) {
	tests := []struct {
		in   string
		addr uint64
		data string
		err  error
	}{
		{"1000,0:", 0x1000, "", nil},
		{"1000,2:cafe", 0x1000, "\xca\xfe", nil},
		{"1000,2:caf", 0, "", errMalformed},
		{"1000,1:cafe", 0, "", errMalformed},
		{"1000,2:cagg", 0, "", errHexDigit},
		{"1000,2", 0, "", errMalformed},
		{"x,2:cafe", 0, "", errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseMemWrite([]byte(tt.in))
		if !errors.Is(err, tt.err) || (err == nil && (got.addr != tt.addr || string(got.data) != tt.data)) {
			t.Errorf("parseMemWrite(%q) = %#x %q, %v; want %#x %q, %v", tt.in, got.addr, got.data, err, tt.addr, tt.data, tt.err)
		}
	}
}

func TestParseBinaryWrite(t *testing.T) {
	tests := []struct {
		in   string
		addr uint64
		data string
		err  error
	}{
		{"1000,0:", 0x1000, "", nil},
		{"1000,3:a:b", 0x1000, "a:b", nil},
		{"1000,2:\x00\xff", 0x1000, "\x00\xff", nil},
		{"1000,3:ab", 0, "", errMalformed},
		{"1000,1", 0, "", errMalformed},
	}
	for _, tt := range tests {
		got, err := parseBinaryWrite([]byte(tt.in))
		if !errors.Is(err, tt.err) || (err == nil && (got.addr != tt.addr || string(got.data) != tt.data)) {
			t.Errorf("parseBinaryWrite(%q) = %#x %q, %v; want %#x %q, %v", tt.in, got.addr, got.data, err, tt.addr, tt.data, tt.err)
		}
	}
}

func FuzzParseMemRead(f *testing.F) {
	f.Add([]byte("7fff0000,4000"))
	f.Add([]byte("0,"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseMemRead(in)
		if err != nil {
			return
		}
		again, err := parseMemRead(appendMemRead(nil, r))
		if err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func FuzzParseMemWrite(f *testing.F) {
	f.Add([]byte("1000,2:cafe"), false)
	f.Add([]byte("1000,3:a:b"), true)
	f.Fuzz(func(t *testing.T, in []byte, binary bool) {
		parse := parseMemWrite
		if binary {
			parse = parseBinaryWrite
		}
		w, err := parse(in)
		if err != nil {
			return
		}
		enc := appendMemRead(nil, memRead{w.addr, uint64(len(w.data))})
		enc = append(enc, ':')
		if binary {
			enc = append(enc, w.data...)
		} else {
			enc = appendHex(enc, w.data)
		}
		again, err := parse(enc)
		if err != nil || again.addr != w.addr || !bytes.Equal(again.data, w.data) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, w)
		}
	})
}

func TestMemoryPackets(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)

	h.expect("m10000,4", "00010203")
	// A read that runs off the end of readable memory returns the part
	// that was read; one that starts outside is an error.
	h.expect("m4fffe,4", "6263")
	h.expect("m0,4", "E05")
	h.expect("m10000,0", "")
	// Binary reads in gdb's dialect: 'b' and raw bytes, escaped by the
	// framing ('#' is 0x23, '$' 0x24, '*' 0x2a, '}' 0x7d).
	h.expect("x10023,2", "b#$")
	h.expect("x10000,0", "b")
	h.expect("x0,1", "E05")

	// gdb probes X with a zero-length write.
	h.expect("X10000,0:", "OK")
	h.expect("X10000,4:a#}*", "OK")
	h.expect("m10000,4", "61237d2a")
	h.expect("M10004,2:cafe", "OK")
	h.expect("m10004,2", "cafe")
	h.expect("M0,1:00", "E05")
	h.expect("M10000,2:00", "E01")
	h.expect("X10000,2:a", "E01")
	// A write that runs off the end fails as a whole.
	h.expect("M4ffff,2:0000", "E05")
	if calls := ft.called(); !strings.Contains(calls, `WriteMemory 100 0x10000 "a#}*"`) {
		t.Errorf("calls = %q", calls)
	}
}

// wideTarget is a fake target whose memory is readable everywhere and
// holds the low byte of each address.
type wideTarget struct{ *fakeTarget }

func (w wideTarget) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	for i := range dst {
		dst[i] = byte(addr + uint64(i))
	}
	return len(dst), nil
}

func TestMemoryReadsAreCapped(t *testing.T) {
	ft := newFakeTarget()
	h := serveTarget(t, wideTarget{ft}, ft, Config{})
	h.negotiate(gdbFeatures)
	if r := h.exchange("m10000,ffffffff"); len(r) != packetSize {
		t.Errorf("m reply of %d hex digits, want %d", len(r), packetSize)
	}
	// x returns PacketSize bytes, however many more were asked for, and
	// all of a request of exactly PacketSize (gdb 16's largest).
	for _, req := range []string{"x10000,ffffffffffffffff", fmt.Sprintf("x10000,%x", packetSize)} {
		r := h.exchange(req)
		if len(r) != 1+packetSize || r[0] != 'b' {
			t.Fatalf("%s: reply of %d bytes, want 'b' and %d", req, len(r), packetSize)
		}
		for i := 1; i < len(r); i++ {
			if r[i] != byte(i-1) {
				t.Fatalf("%s: reply byte %d = %#x, want %#x", req, i, r[i], byte(i-1))
			}
		}
	}
	if r := h.exchange(fmt.Sprintf("x10000,%x", packetSize-1)); len(r) != packetSize {
		t.Errorf("x of PacketSize-1 bytes: reply of %d bytes, want %d", len(r), packetSize)
	}
}

// escapingTarget is a fake target whose memory is all '}', which doubles
// in a binary reply.
type escapingTarget struct{ *fakeTarget }

func (escapingTarget) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	for i := range dst {
		dst[i] = '}'
	}
	return len(dst), nil
}

func TestBinaryReadOfBytesThatAllNeedEscaping(t *testing.T) {
	ft := newFakeTarget()
	h := serveTarget(t, escapingTarget{ft}, ft, Config{})
	h.negotiate(gdbFeatures)
	for _, n := range []int{1, 100, 0x10000, maxBinaryRead} {
		r := h.exchange(fmt.Sprintf("x10000,%x", n))
		if r != "b"+strings.Repeat("}", n) {
			t.Fatalf("x of %d bytes of '}': %d bytes back", n, len(r)-1)
		}
	}
	// A random read after it still works.
	h.expect("x10000,2", "b}}")
}

func TestMemoryUsesGeneralProcess(t *testing.T) {
	ft := newFakeTarget()
	ft.procs = append(ft.procs, 200)
	ft.threads[200] = []int{200}
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("Hgpc8.0", "OK")
	h.expect("X10000,1:z", "OK")
	if calls := ft.called(); !strings.Contains(calls, `WriteMemory 200 0x10000 "z"`) {
		t.Errorf("calls = %q", calls)
	}
}

func BenchmarkReadMemoryBinary(b *testing.B) {
	ft := newFakeTarget()
	a, c := socketPair(b)
	s := NewSession(c, ft, Config{})
	go s.Serve(b.Context())
	cl := NewClient(a)
	if err := cl.StartNoAck(); err != nil {
		b.Fatal(err)
	}
	req := []byte("x10000,10000")
	b.SetBytes(0x10000)
	for b.Loop() {
		// ExchangeBytes, as bulk readers do: no string per reply.
		if r, err := cl.ExchangeBytes(req); err != nil || len(r) != 0x10000 {
			b.Fatalf("%d bytes, %v", len(r), err)
		}
	}
}
