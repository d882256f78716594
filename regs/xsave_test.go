package regs

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// 80-bit x87 values: significand (with explicit integer bit 63), then
// sign and exponent.
func f80(significand uint64, signExp uint16) []byte {
	b := binary.LittleEndian.AppendUint64(nil, significand)
	return binary.LittleEndian.AppendUint16(b, signExp)
}

var (
	f80One      = f80(1<<63, 0x3fff)
	f80MinusTwo = f80(1<<63, 0xc000)
	f80Zero     = f80(0, 0)
	f80NegZero  = f80(0, 0x8000)
	f80Inf      = f80(1<<63, 0x7fff)
	f80NaN      = f80(0xc000000000000000, 0xffff)
	f80Denormal = f80(1, 0)
	f80Pseudo   = f80(1<<63, 0) // pseudo-denormal
	f80Unnormal = f80(1<<62, 0x3fff)
)

// legacyRegion builds an FXSAVE legacy region with the given TOP, abridged
// tag and ST registers (in stack order; nil slots stay zero).
func legacyRegion(top int, abridged byte, st ...[]byte) []byte {
	fx := make([]byte, fxSize)
	binary.LittleEndian.PutUint16(fx[fxFSW:], uint16(top)<<11)
	fx[fxFTW] = abridged
	for i, v := range st {
		copy(fx[fxST0+i*fxSTSlot:], v)
	}
	return fx
}

func TestFullTag(t *testing.T) {
	tests := []struct {
		name     string
		top      int
		abridged byte
		st       [][]byte
		want     uint16
	}{
		{"all empty", 0, 0x00, nil, 0xffff},
		{"empty ignores contents", 0, 0x00, [][]byte{f80One, f80One}, 0xffff},
		{"valid", 0, 0x01, [][]byte{f80One}, 0xfffc},
		{"negative valid", 0, 0x01, [][]byte{f80MinusTwo}, 0xfffc},
		{"zero", 0, 0x01, [][]byte{f80Zero}, 0xfffd},
		{"negative zero", 0, 0x01, [][]byte{f80NegZero}, 0xfffd},
		{"infinity", 0, 0x01, [][]byte{f80Inf}, 0xfffe},
		{"NaN", 0, 0x01, [][]byte{f80NaN}, 0xfffe},
		{"denormal", 0, 0x01, [][]byte{f80Denormal}, 0xfffe},
		{"pseudo-denormal", 0, 0x01, [][]byte{f80Pseudo}, 0xfffe},
		{"unnormal", 0, 0x01, [][]byte{f80Unnormal}, 0xfffe},
		// After one push TOP is 7: ST0 is physical register 7.
		{"one push", 7, 0x80, [][]byte{f80One}, 0x3fff},
		// TOP 5: physical 5, 6, 7 are ST0, ST1, ST2.
		{"three pushes", 5, 0xe0, [][]byte{f80One, f80Zero, f80Inf}, 0x93ff},
		// TOP 6, physical 0 is ST2 (zero) and physical 6 is ST0 (valid);
		// physical 7 (ST1, an infinity) is empty.
		{"wrap around", 6, 0x41, [][]byte{f80One, f80Inf, f80Zero}, 0xcffd},
		{"full stack", 0, 0xff, [][]byte{f80One, f80Zero, f80Inf, f80NaN, f80Denormal, f80Unnormal, f80MinusTwo, f80Pseudo}, 0x8aa4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := legacyRegion(tt.top, tt.abridged, tt.st...)
			if got := fullTag(fx); got != tt.want {
				t.Errorf("fullTag = %#04x, want %#04x", got, tt.want)
			}
			if got := abridgedTag(fullTag(fx)); got != tt.abridged {
				t.Errorf("abridgedTag(fullTag) = %#02x, want %#02x", got, tt.abridged)
			}
		})
	}
}

func TestAbridgedTag(t *testing.T) {
	tests := []struct {
		full uint16
		want byte
	}{
		{0xffff, 0x00},
		{0x0000, 0xff}, // all valid
		{0x5555, 0xff}, // all zero
		{0xaaaa, 0xff}, // all special
		{0xfffc, 0x01},
		{0xfffd, 0x01},
		{0xfffe, 0x01},
		{0x3fff, 0x80},
		{0xcffd, 0x41},
		{0x7fff, 0x80},
		{0xf0f0, 0x33}, // physical 2, 3, 6, 7 empty
	}
	for _, tt := range tests {
		if got := abridgedTag(tt.full); got != tt.want {
			t.Errorf("abridgedTag(%#04x) = %#02x, want %#02x", tt.full, got, tt.want)
		}
	}
}

// TestTagRoundTrip checks, for every abridged tag and random register
// contents, that the full tag marks exactly the non-empty registers and
// converts back to the same abridged tag.
func TestTagRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for abridged := range 256 {
		fx := make([]byte, fxSize)
		for i := range fx {
			fx[i] = byte(rng.Uint32())
		}
		fx[fxFTW] = byte(abridged)
		full := fullTag(fx)
		for p := range 8 {
			empty := full>>(2*p)&3 == tagEmpty
			if empty != (abridged&(1<<p) == 0) {
				t.Fatalf("abridged %#02x: full %#04x disagrees on physical register %d", abridged, full, p)
			}
		}
		if got := abridgedTag(full); got != byte(abridged) {
			t.Fatalf("abridged %#02x -> full %#04x -> %#02x", abridged, full, got)
		}
	}
}

func TestInitX87(t *testing.T) {
	fx := make([]byte, fxSize)
	for i := range fx {
		fx[i] = 0xaa
	}
	initX87(fx)
	for i, b := range fx {
		want := byte(0)
		switch {
		case i == fxFCW:
			want = 0x7f
		case i == fxFCW+1:
			want = 0x03
		case i >= fxMXCSR && i < fxST0, i >= x87Size:
			want = 0xaa // MXCSR, MXCSR_MASK and SSE state are not x87 state
		}
		if b != want {
			t.Fatalf("byte %d = %#x after initX87, want %#x", i, b, want)
		}
	}
	if fullTag(fx) != 0xffff {
		t.Errorf("initial tag word %#04x, want 0xffff", fullTag(fx))
	}
}
