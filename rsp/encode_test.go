package rsp

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveEscape escapes p byte by byte, the reference for escapeInPlace.
func naiveEscape(p []byte) []byte {
	var out []byte
	for _, b := range p {
		if needsEscape[b] {
			out = append(out, escapeByte, b^escapeXor)
		} else {
			out = append(out, b)
		}
	}
	return out
}

func naiveSum(p []byte) byte {
	var s byte
	for _, b := range p {
		s += b
	}
	return s
}

// testInputs returns byte strings that exercise the escape scan and the
// checksum's blocks: every length up to a few words, each escaped byte at
// every position, runs of escaped bytes alone, mixed and at both ends,
// long random data, and all-0xff data around the checksum's block size.
func testInputs() [][]byte {
	var ins [][]byte
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		ins = append(ins, p)
	}
	for _, e := range []byte{'$', '#', '}', '*', 0x03, 0xff, 0} {
		for pos := range 17 {
			p := bytes.Repeat([]byte{'a'}, 17)
			p[pos] = e
			ins = append(ins, p)
		}
	}
	// Long enough for more than one window of escapeScan's masks.
	big := make([]byte, 100_000)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	ins = append(ins, big, bytes.Repeat([]byte{0xff}, 5000), bytes.Repeat([]byte{'}'}, 1000))
	// Each escaped byte at every position of two vector blocks, among
	// bytes that differ from an escaped one in a single bit.
	for _, e := range []byte{'$', '#', '}', '*'} {
		for pos := range 130 {
			p := bytes.Repeat([]byte{e ^ 0x80, e ^ 0x01, e ^ 0x40}, 44)[:130]
			p[pos] = e
			ins = append(ins, p)
		}
	}
	for _, n := range []int{31, 32, 33, 1023, 1024, 1025, 1056} {
		ins = append(ins, bytes.Repeat([]byte{0xff}, n))
	}
	ins = append(ins,
		[]byte("$#}*"), []byte("*}#$"), []byte("}a"), []byte("a}"), []byte("$ab*"),
		[]byte("ab$$##}}**cd"), bytes.Repeat([]byte("$#}*x"), 300),
		append(bytes.Repeat([]byte{'*'}, 40), bytes.Repeat([]byte{'$'}, 40)...))
	mixed := make([]byte, 4000)
	for i := range mixed {
		// One byte in two special, in runs of random lengths.
		if rng.UintN(2) == 0 {
			mixed[i] = "$#}*"[rng.UintN(4)]
		} else {
			mixed[i] = byte(rng.Uint32())
		}
	}
	return append(ins, mixed)
}

func TestChecksum(t *testing.T) {
	for _, p := range testInputs() {
		if got, want := checksum(p), naiveSum(p); got != want {
			t.Errorf("checksum of %d bytes = %#x, want %#x", len(p), got, want)
		}
	}
}

func TestEscapeInPlace(t *testing.T) {
	for _, p := range testInputs() {
		n := len(p)
		// The layout readReply uses: room for 2n from dst, data at dst+n.
		const dst = 3
		buf := make([]byte, dst+2*n)
		copy(buf[dst+n:], p)
		end, sum := escapeInPlace(buf, dst, dst+n, n)
		want := naiveEscape(p)
		if !bytes.Equal(buf[dst:end], want) {
			t.Fatalf("escapeInPlace of %d bytes: got %d bytes, want %d", n, end-dst, len(want))
		}
		if sum != naiveSum(want) {
			t.Errorf("escapeInPlace of %d bytes: sum %#x, want %#x", n, sum, naiveSum(want))
		}
		if got, err := unescape(bytes.Clone(want)); err != nil || !bytes.Equal(got, p) {
			t.Errorf("unescape of the escaped bytes differs (%v)", err)
		}
	}
}

func TestEscapeScan(t *testing.T) {
	for _, p := range testInputs() {
		var want []int
		for i, b := range p {
			if needsEscape[b] {
				want = append(want, i)
			}
		}
		// Asked from every position in turn, and from escape to escape.
		sc := newEscapeScan(p)
		k := 0
		for from := 0; from <= len(p); from++ {
			for k < len(want) && want[k] < from {
				k++
			}
			next := len(p)
			if k < len(want) {
				next = want[k]
			}
			if got := sc.find(from); got != next {
				t.Fatalf("%.40q: find(%d) = %d, want %d", p, from, got, next)
			}
		}
		got, sum, ok := escapes(nil, p, len(p))
		if !ok || !slices.Equal(got, want) {
			t.Fatalf("escapes(%.40q) = %v, want %v", p, got, want)
		}
		if want := naiveSum(naiveEscape(p)); sum != want {
			t.Fatalf("escapes(%.40q): sum %#x, want %#x", p, sum, want)
		}
		if len(want) > 0 {
			if got, _, ok := escapes(nil, p, len(want)-1); ok || !slices.Equal(got, want[:len(want)-1]) {
				t.Fatalf("escapes(%.40q) with a limit of %d: %v, %v", p, len(want)-1, got, ok)
			}
		}
	}
}

func TestEscapeMasks(t *testing.T) {
	for _, p := range testInputs() {
		masks := make([]uint64, len(p)/64)
		if sum, want := escapeMasks(p, masks), naiveSum(p[:64*len(masks)]); sum != want {
			t.Fatalf("%.40q: sum %#x, want %#x", p, sum, want)
		}
		for k, m := range masks {
			if want := blockMask(p[64*k : 64*k+64]); m != want {
				t.Fatalf("%.40q: block %d: mask %#x, want %#x", p, k, m, want)
			}
		}
	}
}

func BenchmarkEscapeScan(b *testing.B) {
	p := benchData(64 << 10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		sc := newEscapeScan(p)
		for i := sc.find(0); i < len(p); i = sc.find(i + 1) {
		}
	}
}

func TestHexInPlace(t *testing.T) {
	for _, p := range testInputs() {
		n := len(p)
		const dst = 1
		buf := make([]byte, dst+2*n)
		copy(buf[dst+n:], p)
		sum := hexInPlace(buf, dst, dst+n, n)
		want := appendHex(nil, p)
		if !bytes.Equal(buf[dst:], want) {
			t.Fatalf("hexInPlace of %d bytes = %.40q, want %.40q", n, buf[dst:], want)
		}
		if sum != naiveSum(want) {
			t.Errorf("hexInPlace sum %#x, want %#x", sum, naiveSum(want))
		}
	}
}

func FuzzEscapeInPlace(f *testing.F) {
	f.Add([]byte("a$b#c}d*e"))
	f.Fuzz(func(t *testing.T, p []byte) {
		n := len(p)
		buf := make([]byte, 1+2*n)
		copy(buf[1+n:], p)
		end, sum := escapeInPlace(buf, 1, 1+n, n)
		want := naiveEscape(p)
		if !bytes.Equal(buf[1:end], want) || sum != naiveSum(want) || checksum(p) != naiveSum(p) {
			t.Fatalf("escapeInPlace(%q) = %q, want %q", p, buf[1:end], want)
		}
	})
}

func benchData(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

func BenchmarkHexInPlace(b *testing.B) {
	const n = 64 << 10
	p := benchData(n)
	buf := make([]byte, 1+2*n)
	b.SetBytes(n)
	for b.Loop() {
		copy(buf[1+n:], p)
		hexInPlace(buf, 1, 1+n, n)
	}
}

func BenchmarkEscapeInPlace(b *testing.B) {
	const n = 64 << 10
	p := benchData(n)
	buf := make([]byte, 1+2*n)
	b.SetBytes(n)
	for b.Loop() {
		copy(buf[1+n:], p)
		escapeInPlace(buf, 1, 1+n, n)
	}
}

func BenchmarkChecksum(b *testing.B) {
	p := benchData(64 << 10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		checksum(p)
	}
}

func BenchmarkUnescape(b *testing.B) {
	esc := naiveEscape(benchData(64 << 10))
	buf := make([]byte, len(esc))
	b.SetBytes(int64(len(esc)))
	for b.Loop() {
		copy(buf, esc)
		if _, err := unescape(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEscapeBackward(t *testing.T) {
	for _, p := range testInputs() {
		idx, _, _ := escapes(nil, p, len(p))
		buf := make([]byte, len(p)+len(idx))
		copy(buf, p)
		escapeBackward(buf, len(p), idx)
		if want := naiveEscape(p); !bytes.Equal(buf, want) {
			t.Fatalf("escapeBackward of %d bytes: %.40q, want %.40q", len(p), buf, want)
		}
	}
}

func FuzzEscapeBackward(f *testing.F) {
	f.Add([]byte("a$b#c}d*e"))
	f.Fuzz(func(t *testing.T, p []byte) {
		idx, _, _ := escapes(nil, p, len(p))
		buf := make([]byte, len(p)+len(idx))
		copy(buf, p)
		escapeBackward(buf, len(p), idx)
		if want := naiveEscape(p); !bytes.Equal(buf, want) {
			t.Fatalf("escapeBackward(%q) = %q, want %q", p, buf, want)
		}
	})
}

// BenchmarkEscapeBackward is the x reply's escaping: find the bytes to
// escape and sum the data, then move the runs between them.
func BenchmarkEscapeBackward(b *testing.B) {
	const n = 64 << 10
	p := benchData(n)
	buf := make([]byte, n+n/16)
	var idx []int
	b.SetBytes(n)
	for b.Loop() {
		copy(buf, p)
		idx, _, _ = escapes(idx[:0], buf[:n], n)
		escapeBackward(buf[:n+len(idx)], n, idx)
	}
}

// checkRuns encodes p with compressRuns and checks the result: it expands
// back to p, its checksum is p's plus the delta, it is no longer than p,
// and no count is '#', '$' or '}'.
func checkRuns(t *testing.T, p []byte) []byte {
	t.Helper()
	enc := slices.Clone(p)
	n, delta := compressRuns(enc)
	enc = enc[:n]
	if n > len(p) {
		t.Fatalf("compressRuns(%q) grew to %q", p, enc)
	}
	if got := checksum(enc); got != checksum(p)+delta {
		t.Fatalf("compressRuns(%q) = %q: checksum %#x, want %#x", p, enc, got, checksum(p)+delta)
	}
	for i := 0; i < len(enc); i++ {
		if enc[i] == rleByte {
			i++
			if c := enc[i]; c == '#' || c == '$' || c == escapeByte || c < rleBias+minRun-1 {
				t.Fatalf("compressRuns(%q) = %q: count %q", p, enc, c)
			}
		}
	}
	dec, err := expandRLE(slices.Clone(enc), 1<<20)
	if err != nil || !bytes.Equal(dec, p) {
		t.Fatalf("compressRuns(%q) = %q, which expands to %q, %v", p, enc, dec, err)
	}
	return enc
}

func TestCompressRuns(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"0123456789abcdef", "0123456789abcdef"},
		{"000", "000"},
		{"0000", "0* "},
		{"00000000", `0*"00`}, // seven repeats: five, then two plain
		{"12ffffffffff34", "12f*&34"},
		{"x" + strings.Repeat("0", 96) + "y", "x0*|y"},
		{strings.Repeat("0", 97), "0*|0"},
		{strings.Repeat("0", 200), `0*|0*|0*"00`},
	} {
		if got := string(checkRuns(t, []byte(c.in))); got != c.want {
			t.Errorf("compressRuns(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Every run length, at every alignment the pair scan sees.
	for lead := range 12 {
		for run := 1; run < 210; run++ {
			p := []byte(strings.Repeat("ab", lead) + strings.Repeat("7", run) + "c" + strings.Repeat("5", run%9))
			checkRuns(t, p)
		}
	}
}

func FuzzCompressRuns(f *testing.F) {
	f.Add([]byte("00000000ffffffff0123"))
	f.Fuzz(func(t *testing.T, p []byte) {
		p = slices.DeleteFunc(p, func(b byte) bool { return needsEscape[b] })
		checkRuns(t, p)
	})
}

func BenchmarkCompressRunsRandomHex(b *testing.B) {
	const n = 64 << 10
	p := benchData(n)
	hex := make([]byte, 1+2*n)
	copy(hex[1+n:], p)
	hexInPlace(hex, 1, 1+n, n)
	buf := make([]byte, 2*n)
	b.SetBytes(n)
	for b.Loop() {
		copy(buf, hex[1:])
		compressRuns(buf)
	}
}
