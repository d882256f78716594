package rsp

import (
	"bytes"
	"errors"
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
