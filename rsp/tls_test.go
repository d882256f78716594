package rsp

import (
	"errors"
	"fmt"
	"testing"

	"procgdb/inferior"
)

func TestParseGetTLSAddr(t *testing.T) {
	tests := []struct {
		in   string
		want tlsRequest
		err  error
	}{
		{"p64.65,10,7ffff7ffe2e0", tlsRequest{inferior.ThreadID{PID: 100, TID: 101}, 0x10, 0x7ffff7ffe2e0}, nil},
		{"65,0,0", tlsRequest{inferior.ThreadID{PID: inferior.Any, TID: 101}, 0, 0}, nil},
		{"0,8,1000", tlsRequest{inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}, 8, 0x1000}, nil},
		{"p64.0,8,1000", tlsRequest{inferior.ThreadID{PID: 100, TID: inferior.Any}, 8, 0x1000}, nil},
		{"-1,0,0", tlsRequest{}, errMalformed},
		{"p64,0,0", tlsRequest{}, errMalformed}, // all threads of 100
		{"p64.65,10", tlsRequest{}, errMalformed},
		{"p64.65,10,20,30", tlsRequest{}, errMalformed},
		{"", tlsRequest{}, errMalformed},
		{"p64.65,,20", tlsRequest{}, errHexEmpty},
		{"p64.65,10,", tlsRequest{}, errHexEmpty},
		{"p64.65,1g,20", tlsRequest{}, errHexDigit},
		{"p64.65,10,10000000000000000", tlsRequest{}, errHexOverflow},
		{"x,10,20", tlsRequest{}, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseGetTLSAddr([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseGetTLSAddr(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseGetTLSAddr(f *testing.F) {
	for _, s := range []string{"p64.65,10,7ffff7ffe2e0", "65,0,0", "0,8,1000", "p64.0,8,1000"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseGetTLSAddr(in)
		if err != nil {
			return
		}
		again, err := parseGetTLSAddr(appendGetTLSAddr(nil, r))
		if err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

// tlsTarget is a fake target whose thread-local variables sit at
// 0x1000*TID + lm + offset, except in module 0xdead, whose TLS is never
// allocated.
type tlsTarget struct {
	*fakeTarget
	asked []inferior.ThreadID
}

func (tt *tlsTarget) TLSAddress(t inferior.ThreadID, offset, lm uint64) (uint64, error) {
	tt.asked = append(tt.asked, t)
	if lm == 0xdead {
		return 0, fmt.Errorf("module %#x: not allocated", lm)
	}
	return 0x1000*uint64(t.TID) + lm + offset, nil
}

func TestGetTLSAddrPacket(t *testing.T) {
	ft := newFakeTarget()
	tt := &tlsTarget{fakeTarget: ft}
	h := serveTarget(t, tt, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("qGetTLSAddr:p64.65,10,100000", "165010")
	h.expect("qGetTLSAddr:65,0,100000", "165000")
	h.expect("qGetTLSAddr:p64.0,8,0", "64008") // the thread of the last stop: the first one
	h.expect("qGetTLSAddr:p64.66,10,100000", "E02")
	h.expect("qGetTLSAddr:p65.65,10,100000", "E02")
	h.expect("qGetTLSAddr:p64.65,10,dead", "E0f")
	h.expect("qGetTLSAddr:p64.65,10", "E01")
	h.expect("qGetTLSAddr:-1,10,100000", "E01")
	want := []inferior.ThreadID{{PID: fakePID, TID: 101}, {PID: fakePID, TID: 101}, {PID: fakePID, TID: fakePID}, {PID: fakePID, TID: 101}}
	if fmt.Sprint(tt.asked) != fmt.Sprint(want) {
		t.Errorf("TLSAddress asked for %v, want %v", tt.asked, want)
	}
}

func TestGetTLSAddrUnsupported(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	// gdb then says "Remote target doesn't support qGetTLSAddr packet".
	h.expect("qGetTLSAddr:p64.65,10,100000", "")
}
