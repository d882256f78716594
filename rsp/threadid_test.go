package rsp

import (
	"errors"
	"testing"
)

func TestParseThreadID(t *testing.T) {
	tests := []struct {
		in   string
		want ThreadID
		err  error
	}{
		{"1f2", ThreadID{AnyThread, 0x1f2}, nil},
		{"0", ThreadID{AnyThread, AnyThread}, nil},
		{"-1", ThreadID{AllThreads, AllThreads}, nil},
		{"p1f2.1f3", ThreadID{0x1f2, 0x1f3}, nil},
		{"p1f2", ThreadID{0x1f2, AllThreads}, nil},
		{"p1f2.-1", ThreadID{0x1f2, AllThreads}, nil},
		{"p-1.-1", ThreadID{AllThreads, AllThreads}, nil},
		{"p-1", ThreadID{AllThreads, AllThreads}, nil},
		{"p0.0", ThreadID{AnyThread, AnyThread}, nil},
		{"", ThreadID{}, errHexEmpty},
		{"p", ThreadID{}, errHexEmpty},
		{"p1.", ThreadID{}, errHexEmpty},
		{"-2", ThreadID{}, errHexDigit},
		{"p1.2.3", ThreadID{}, errHexDigit},
		{"80000000", ThreadID{}, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseThreadID([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseThreadID(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestAppendThreadID(t *testing.T) {
	tests := []struct {
		id           ThreadID
		multiprocess bool
		want         string
	}{
		{ThreadID{0x1f2, 0x1f3}, true, "p1f2.1f3"},
		{ThreadID{0x1f2, 0x1f3}, false, "1f3"},
		{ThreadID{AllThreads, AllThreads}, true, "p-1.-1"},
		{ThreadID{AllThreads, AllThreads}, false, "-1"},
	}
	for _, tt := range tests {
		if got := string(appendThreadID(nil, tt.id, tt.multiprocess)); got != tt.want {
			t.Errorf("appendThreadID(%+v, %v) = %q, want %q", tt.id, tt.multiprocess, got, tt.want)
		}
	}
}

func FuzzParseThreadID(f *testing.F) {
	for _, s := range []string{"1f2", "-1", "p1f2.1f3", "p-1", "p0.0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		id, err := parseThreadID(in)
		if err != nil {
			return
		}
		again, err := parseThreadID(appendThreadID(nil, id, true))
		if err != nil || again != id {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, id)
		}
	})
}
