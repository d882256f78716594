package rsp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestAppendHex(t *testing.T) {
	src := []byte{0x00, 0x01, 0x7f, 0x80, 0xab, 0xff}
	got := appendHex([]byte("x"), src)
	if want := "x00017f80abff"; string(got) != want {
		t.Errorf("appendHex = %q, want %q", got, want)
	}
}

func TestDecodeHex(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"", "", nil},
		{"00ff7F80", "\x00\xff\x7f\x80", nil},
		{"0", "", errHexOdd},
		{"0g", "", errHexDigit},
		{"zz", "", errHexDigit},
	}
	for _, tt := range tests {
		got, err := decodeHex([]byte("p"), []byte(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("decodeHex(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && string(got) != "p"+tt.want {
			t.Errorf("decodeHex(%q) = %q, want %q", tt.in, got, "p"+tt.want)
		}
		if err != nil && string(got) != "p" {
			t.Errorf("decodeHex(%q) failed but left %q in dst", tt.in, got)
		}
	}
}

func TestHexUint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  error
	}{
		{"0", 0, nil},
		{"00000000000000000000001", 1, nil},
		{"DeadBeef", 0xdeadbeef, nil},
		{"ffffffffffffffff", math.MaxUint64, nil},
		{"10000000000000000", 0, errHexOverflow},
		{"", 0, errHexEmpty},
		{"-1", 0, errHexDigit},
		{"12x", 0, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseHexUint([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseHexUint(%q) = %#x, %v; want %#x, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if _, err := parseHexInt([]byte("80000000")); !errors.Is(err, errHexOverflow) {
		t.Errorf("parseHexInt(80000000) error = %v, want overflow", err)
	}
	if v, err := parseHexInt([]byte("7fffffff")); err != nil || v != math.MaxInt32 {
		t.Errorf("parseHexInt(7fffffff) = %d, %v", v, err)
	}
	for _, v := range []uint64{0, 1, 0xf, 0x10, 0x7fffffffffff, math.MaxUint64} {
		if got := string(appendHexUint(nil, v)); got != strconv.FormatUint(v, 16) {
			t.Errorf("appendHexUint(%#x) = %q", v, got)
		}
	}
}

func FuzzDecodeHex(f *testing.F) {
	f.Add([]byte("00ff"))
	f.Add([]byte("0g"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decodeHex(nil, in)
		want, werr := hex.DecodeString(string(in))
		if (err == nil) != (werr == nil) {
			t.Fatalf("decodeHex(%q) error = %v, encoding/hex says %v", in, err, werr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("decodeHex(%q) = %x, want %x", in, got, want)
		}
		if again := appendHex(nil, got); !bytes.EqualFold(again, in) {
			t.Fatalf("appendHex(decodeHex(%q)) = %q", in, again)
		}
	})
}

func FuzzParseHexUint(f *testing.F) {
	f.Add([]byte("ffffffffffffffff"))
	f.Add([]byte("0001"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := parseHexUint(in)
		if err != nil {
			return
		}
		want, werr := strconv.ParseUint(string(in), 16, 64)
		if werr != nil || got != want {
			t.Fatalf("parseHexUint(%q) = %#x, strconv says %#x, %v", in, got, want, werr)
		}
		if back, err := parseHexUint(appendHexUint(nil, got)); err != nil || back != got {
			t.Fatalf("round trip of %#x gave %#x, %v", got, back, err)
		}
	})
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func BenchmarkAppendHex(b *testing.B) {
	src := randomBytes(64 << 10)
	dst := make([]byte, 0, 2*len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = appendHex(dst[:0], src)
	}
}

func BenchmarkDecodeHex(b *testing.B) {
	src := appendHex(nil, randomBytes(64<<10))
	dst := make([]byte, 0, len(src)/2)
	b.SetBytes(int64(len(src) / 2))
	for b.Loop() {
		var err error
		if dst, err = decodeHex(dst[:0], src); err != nil {
			b.Fatal(err)
		}
	}
}
