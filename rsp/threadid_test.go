package rsp

import (
	"errors"
	"testing"

	"procgdb/inferior"
)

func TestParseThreadID(t *testing.T) {
	tests := []struct {
		in   string
		want inferior.ThreadID
		err  error
	}{
		{"1f2", inferior.ThreadID{PID: inferior.Any, TID: 0x1f2}, nil},
		{"0", inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}, nil},
		{"-1", inferior.ThreadID{PID: inferior.All, TID: inferior.All}, nil},
		{"p1f2.1f3", inferior.ThreadID{PID: 0x1f2, TID: 0x1f3}, nil},
		{"p1f2", inferior.ThreadID{PID: 0x1f2, TID: inferior.All}, nil},
		{"p1f2.-1", inferior.ThreadID{PID: 0x1f2, TID: inferior.All}, nil},
		{"p-1.-1", inferior.ThreadID{PID: inferior.All, TID: inferior.All}, nil},
		{"p-1", inferior.ThreadID{PID: inferior.All, TID: inferior.All}, nil},
		{"p0.0", inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}, nil},
		{"", inferior.ThreadID{}, errHexEmpty},
		{"p", inferior.ThreadID{}, errHexEmpty},
		{"p1.", inferior.ThreadID{}, errHexEmpty},
		{"-2", inferior.ThreadID{}, errHexDigit},
		{"p1.2.3", inferior.ThreadID{}, errHexDigit},
		{"80000000", inferior.ThreadID{}, errHexOverflow},
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
		id           inferior.ThreadID
		multiprocess bool
		want         string
	}{
		{inferior.ThreadID{PID: 0x1f2, TID: 0x1f3}, true, "p1f2.1f3"},
		{inferior.ThreadID{PID: 0x1f2, TID: 0x1f3}, false, "1f3"},
		{inferior.ThreadID{PID: inferior.All, TID: inferior.All}, true, "p-1.-1"},
		{inferior.ThreadID{PID: inferior.All, TID: inferior.All}, false, "-1"},
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
