package rsp

import (
	"errors"
	"testing"
)

func TestParseBreakpoint(t *testing.T) {
	tests := []struct {
		in   string
		want breakpoint
		err  error
	}{
		{"0,401136,1", breakpoint{0, 0x401136, 1}, nil},
		{"2,7ffe0000,8", breakpoint{2, 0x7ffe0000, 8}, nil},
		{"0,401136,1;X3,220c05", breakpoint{0, 0x401136, 1}, nil},
		{"0,401136,1;cmds:0,X3,220c05", breakpoint{0, 0x401136, 1}, nil},
		{"0,401136", breakpoint{}, errMalformed},
		{"0,401136,1,2", breakpoint{}, errMalformed},
		{"", breakpoint{}, errMalformed},
		{"z,401136,1", breakpoint{}, errHexDigit},
		{"0,,1", breakpoint{}, errHexEmpty},
		{"0,1,", breakpoint{}, errHexEmpty},
	}
	for _, tt := range tests {
		got, err := parseBreakpoint([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseBreakpoint(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseBreakpoint(f *testing.F) {
	f.Add([]byte("0,401136,1"))
	f.Add([]byte("0,401136,1;X3,220c05"))
	f.Fuzz(func(t *testing.T, in []byte) {
		bp, err := parseBreakpoint(in)
		if err != nil {
			return
		}
		again, err := parseBreakpoint(appendBreakpoint(nil, bp))
		if err != nil || again != bp {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, bp)
		}
	})
}
