package rsp

import (
	"bytes"
	"errors"
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
