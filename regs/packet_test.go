package regs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// seq returns n bytes counting up from start.
func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// testLayouts are the layouts every encoding test runs on.
func testLayouts(t testing.TB) map[string]*Layout {
	return map[string]*Layout{
		"fxsave": FXSaveLayout(),
		"avx512": mustLayout(t, avx512CPU()),
		"amx":    mustLayout(t, amxCPU()),
		"pku":    mustLayout(t, pkuCPU()),
	}
}

// testSet returns patternSet's set for seed: fields the encoding
// normalises (the reserved upper bits of FOP) are already normal, so that
// reading and writing back changes nothing.
func testSet(l *Layout, seed uint64) *Set {
	return patternSet(l, byte(seed))
}

func cloneSet(s *Set) *Set {
	c := *s
	c.XSave = bytes.Clone(s.XSave)
	return &c
}

func equalSets(a, b *Set) bool { return a.GPR == b.GPR && bytes.Equal(a.XSave, b.XSave) }

func TestGSize(t *testing.T) {
	for name, l := range testLayouts(t) {
		want := 560 // through gs_base
		if l.HasAVX {
			want += 16 * 16
		}
		if l.HasAVX512 {
			want += 16*16 + 16*16 + 8*8 + 32*32
		}
		if l.HasPKRU {
			want += 4
		}
		if got := len(testSet(l, 1).AppendG(nil)); got != want {
			t.Errorf("%s: g packet is %d bytes, want %d", name, got, want)
		}
	}
}

// TestReadWriteBackIsIdentity reads every register and writes the value
// back, alone (p then P) and all together (g then G): nothing may change.
func TestReadWriteBackIsIdentity(t *testing.T) {
	for name, l := range testLayouts(t) {
		s := testSet(l, 2)
		orig := cloneSet(s)
		for n := range l.NumRegs() {
			b, err := s.AppendRegister(nil, n)
			if err != nil {
				t.Fatalf("%s: p %d: %v", name, n, err)
			}
			info, _ := l.Info(n)
			if len(b) != info.Size() {
				t.Errorf("%s: p %d returned %d bytes, want %d", name, n, len(b), info.Size())
			}
			if err := s.SetRegister(n, b); err != nil {
				t.Fatalf("%s: P %d: %v", name, n, err)
			}
			if !equalSets(s, orig) {
				t.Fatalf("%s: writing back register %d (%s) changed the set", name, n, info.Name)
			}
		}
		if err := s.SetG(s.AppendG(nil)); err != nil {
			t.Fatalf("%s: G: %v", name, err)
		}
		if !equalSets(s, orig) {
			t.Errorf("%s: writing back the g packet changed the set", name)
		}
	}
}

// TestGTransfersAllRegisters copies one set into another through the g
// and G packets.
func TestGTransfersAllRegisters(t *testing.T) {
	for name, l := range testLayouts(t) {
		src, dst := testSet(l, 3), testSet(l, 4)
		g := src.AppendG(nil)
		if err := dst.SetG(g); err != nil {
			t.Fatal(err)
		}
		if got := dst.AppendG(nil); !bytes.Equal(got, g) {
			t.Errorf("%s: g after G differs\n got %x\nwant %x", name, got, g)
		}
		if dst.GPR != src.GPR {
			t.Errorf("%s: GPR = %+v, want %+v", name, dst.GPR, src.GPR)
		}
		// The legacy region and AVX state match too, apart from bytes
		// no register covers (reserved fields, the rest of the area).
		for n := 24; n < l.NumRegs(); n++ {
			a, _ := src.AppendRegister(nil, n)
			b, _ := dst.AppendRegister(nil, n)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: register %d = %x, want %x", name, n, b, a)
			}
		}
	}
}

// TestRegisterPlacement writes each class of register through P and
// checks where the value landed and how it reads back.
func TestRegisterPlacement(t *testing.T) {
	l := mustLayout(t, amxCPU())
	tests := []struct {
		name  string
		n     int
		value []byte
		// read is what p returns afterwards; nil means value.
		read []byte
		// check inspects the raw state.
		check func(s *Set) bool
	}{
		{"rax", 0, le64(0x1122334455667788), nil, func(s *Set) bool { return s.GPR.Rax == 0x1122334455667788 }},
		{"rbx", 1, le64(1), nil, func(s *Set) bool { return s.GPR.Rbx == 1 }},
		{"rcx", 2, le64(2), nil, func(s *Set) bool { return s.GPR.Rcx == 2 }},
		{"rdx", 3, le64(3), nil, func(s *Set) bool { return s.GPR.Rdx == 3 }},
		{"rsi", 4, le64(4), nil, func(s *Set) bool { return s.GPR.Rsi == 4 }},
		{"rdi", 5, le64(5), nil, func(s *Set) bool { return s.GPR.Rdi == 5 }},
		{"rbp", RBP, le64(6), nil, func(s *Set) bool { return s.GPR.Rbp == 6 }},
		{"rsp", RSP, le64(7), nil, func(s *Set) bool { return s.GPR.Rsp == 7 }},
		{"r8", 8, le64(8), nil, func(s *Set) bool { return s.GPR.R8 == 8 }},
		{"r9", 9, le64(9), nil, func(s *Set) bool { return s.GPR.R9 == 9 }},
		{"r10", 10, le64(10), nil, func(s *Set) bool { return s.GPR.R10 == 10 }},
		{"r11", 11, le64(11), nil, func(s *Set) bool { return s.GPR.R11 == 11 }},
		{"r12", 12, le64(12), nil, func(s *Set) bool { return s.GPR.R12 == 12 }},
		{"r13", 13, le64(13), nil, func(s *Set) bool { return s.GPR.R13 == 13 }},
		{"r14", 14, le64(14), nil, func(s *Set) bool { return s.GPR.R14 == 14 }},
		{"r15", 15, le64(15), nil, func(s *Set) bool { return s.GPR.R15 == 15 }},
		{"rip", RIP, le64(0x401000), nil, func(s *Set) bool { return s.GPR.Rip == 0x401000 }},
		{"eflags", 17, le32(0x246), nil, func(s *Set) bool { return s.GPR.Eflags == 0x246 }},
		{"cs", 18, le32(0x33), nil, func(s *Set) bool { return s.GPR.Cs == 0x33 }},
		{"ss", 19, le32(0x2b), nil, func(s *Set) bool { return s.GPR.Ss == 0x2b }},
		{"ds", 20, le32(20), nil, func(s *Set) bool { return s.GPR.Ds == 20 }},
		{"es", 21, le32(21), nil, func(s *Set) bool { return s.GPR.Es == 21 }},
		{"fs", 22, le32(22), nil, func(s *Set) bool { return s.GPR.Fs == 22 }},
		{"gs", 23, le32(23), nil, func(s *Set) bool { return s.GPR.Gs == 23 }},
		{"st0", 24, seq(10, 0xa0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[32:42], seq(10, 0xa0)) }},
		{"st7", 31, seq(10, 0xb0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[144:154], seq(10, 0xb0)) }},
		{"fctrl", 32, le32(0xdead037f), le32(0x037f), func(s *Set) bool { return bytes.Equal(s.XSave[0:2], []byte{0x7f, 0x03}) }},
		{"fstat", 33, le32(0x3800), nil, func(s *Set) bool { return bytes.Equal(s.XSave[2:4], []byte{0x00, 0x38}) }},
		{"fiseg", 35, le32(0x7fff), nil, func(s *Set) bool { return bytes.Equal(s.XSave[12:16], le32(0x7fff)) }},
		{"fioff", 36, le32(0x401234), nil, func(s *Set) bool { return bytes.Equal(s.XSave[8:12], le32(0x401234)) }},
		{"foseg", 37, le32(0x7ffe), nil, func(s *Set) bool { return bytes.Equal(s.XSave[20:24], le32(0x7ffe)) }},
		{"fooff", 38, le32(0xffffe000), nil, func(s *Set) bool { return bytes.Equal(s.XSave[16:20], le32(0xffffe000)) }},
		{"fop", 39, le32(0xffff), le32(0x7ff), func(s *Set) bool { return bytes.Equal(s.XSave[6:8], []byte{0xff, 0x07}) }},
		{"xmm0", 40, seq(16, 0x10), nil, func(s *Set) bool { return bytes.Equal(s.XSave[160:176], seq(16, 0x10)) }},
		{"xmm15", 55, seq(16, 0x20), nil, func(s *Set) bool { return bytes.Equal(s.XSave[400:416], seq(16, 0x20)) }},
		{"mxcsr", 56, le32(0x9fc0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[24:28], le32(0x9fc0)) }},
		{"orig_rax", 57, le64(^uint64(0)), nil, func(s *Set) bool { return s.GPR.Orig_rax == ^uint64(0) }},
		{"fs_base", 58, le64(0x7ffff7d8a740), nil, func(s *Set) bool { return s.GPR.Fs_base == 0x7ffff7d8a740 }},
		{"gs_base", 59, le64(59), nil, func(s *Set) bool { return s.GPR.Gs_base == 59 }},
		{"ymm0h", 60, seq(16, 0x30), nil, func(s *Set) bool { return bytes.Equal(s.XSave[576:592], seq(16, 0x30)) }},
		{"ymm15h", 75, seq(16, 0x40), nil, func(s *Set) bool { return bytes.Equal(s.XSave[816:832], seq(16, 0x40)) }},
		// Hi16_ZMM at 1664 holds zmm16-31 whole, 64 bytes each: xmmN,
		// then ymmNh, then zmmNh.
		{"xmm16", 76, seq(16, 0x50), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1664:1680], seq(16, 0x50)) }},
		{"xmm31", 91, seq(16, 0x60), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1664+15*64:1680+15*64], seq(16, 0x60)) }},
		{"ymm16h", 92, seq(16, 0x70), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1680:1696], seq(16, 0x70)) }},
		{"ymm31h", 107, seq(16, 0x80), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1680+15*64:1696+15*64], seq(16, 0x80)) }},
		// The opmask component at 1088: k0-k7, 8 bytes each.
		{"k0", 108, le64(0xffff), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1088:1096], le64(0xffff)) }},
		{"k7", 115, le64(0x8000000000000001), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1144:1152], le64(0x8000000000000001)) }},
		// ZMM_Hi256 at 1152: the upper halves of zmm0-15, 32 bytes each.
		{"zmm0h", 116, seq(32, 0x90), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1152:1184], seq(32, 0x90)) }},
		{"zmm15h", 131, seq(32, 0xa0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1152+15*32:1184+15*32], seq(32, 0xa0)) }},
		{"zmm16h", 132, seq(32, 0xb0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1696:1728], seq(32, 0xb0)) }},
		{"zmm31h", 147, seq(32, 0xc0), nil, func(s *Set) bool { return bytes.Equal(s.XSave[1696+15*64:1728+15*64], seq(32, 0xc0)) }},
		// PKRU at 2688.
		{"pkru", 148, le32(0x55555554), nil, func(s *Set) bool { return bytes.Equal(s.XSave[2688:2692], le32(0x55555554)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if info, _ := l.Info(tt.n); info.Name != tt.name {
				t.Fatalf("register %d is %s", tt.n, info.Name)
			}
			s := testSet(l, 5)
			before := cloneSet(s)
			if err := s.SetRegister(tt.n, tt.value); err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("value not where expected")
			}
			want := tt.read
			if want == nil {
				want = tt.value
			}
			if got, err := s.AppendRegister(nil, tt.n); err != nil || !bytes.Equal(got, want) {
				t.Errorf("p = %x, %v; want %x", got, err, want)
			}
			// No other register changed.
			for n := range l.NumRegs() {
				if n == tt.n {
					continue
				}
				a, _ := before.AppendRegister(nil, n)
				b, _ := s.AppendRegister(nil, n)
				// ftag follows from the ST contents and TOP.
				ftagFollows := n == 34 && tt.n >= 24 && tt.n <= 33
				if !bytes.Equal(a, b) && !ftagFollows {
					t.Errorf("register %d changed from %x to %x", n, a, b)
				}
			}
		})
	}
}

// TestInitialState covers components that XSTATE_BV marks as in their
// initial configuration: they read as that configuration whatever the
// bytes say, and writing one register materialises the rest.
func TestInitialState(t *testing.T) {
	l := mustLayout(t, avx512CPU())
	s := testSet(l, 6)
	bv := l.Features &^ (1<<compX87 | 1<<compSSE | 1<<compAVX)
	binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], bv)
	mxcsr := bytes.Clone(s.XSave[24:28])

	zero := func(n int) []byte { return make([]byte, n) }
	want := map[int][]byte{
		24: zero(10), 31: zero(10),
		32: le32(0x037f), 33: le32(0), 34: le32(0xffff), 35: le32(0),
		36: le32(0), 37: le32(0), 38: le32(0), 39: le32(0),
		40: zero(16), 55: zero(16),
		56: mxcsr, // not tracked by XSTATE_BV
		60: zero(16), 75: zero(16),
	}
	check := func(when string) {
		t.Helper()
		for n, w := range want {
			if got, err := s.AppendRegister(nil, n); err != nil || !bytes.Equal(got, w) {
				t.Errorf("%s: register %d = %x, %v; want %x", when, n, got, err, w)
			}
		}
	}
	check("initial")

	// Writing xmm3 marks SSE in use and zeroes the other XMM
	// registers, which held garbage; x87 and AVX stay initial.
	if err := s.SetRegister(43, seq(16, 1)); err != nil {
		t.Fatal(err)
	}
	want[43] = seq(16, 1)
	check("after xmm3")
	if got := binary.LittleEndian.Uint64(s.XSave[xsaveHeader:]); got != bv|1<<compSSE {
		t.Errorf("XSTATE_BV = %#x, want %#x", got, bv|1<<compSSE)
	}
	if !bytes.Equal(s.XSave[160:176], zero(16)) || !bytes.Equal(s.XSave[24:28], mxcsr) {
		t.Error("SSE state not materialised, or MXCSR disturbed")
	}

	// Writing fop materialises the x87 defaults, leaving MXCSR alone.
	if err := s.SetRegister(39, le32(0x123)); err != nil {
		t.Fatal(err)
	}
	want[39] = le32(0x123)
	check("after fop")
	if !bytes.Equal(s.XSave[0:2], []byte{0x7f, 0x03}) || s.XSave[fxFTW] != 0 || !bytes.Equal(s.XSave[32:160], zero(128)) {
		t.Error("x87 state not materialised")
	}

	// Writing ymm5h materialises AVX.
	if err := s.SetRegister(65, seq(16, 0x50)); err != nil {
		t.Fatal(err)
	}
	want[65] = seq(16, 0x50)
	check("after ymm5h")
	if !bytes.Equal(s.XSave[576:656], zero(80)) {
		t.Error("AVX state not materialised")
	}
	if got, want := binary.LittleEndian.Uint64(s.XSave[xsaveHeader:]), l.Features; got != want {
		t.Errorf("XSTATE_BV = %#x, want %#x", got, want)
	}

	// mxcsr alone marks SSE in use too: the kernel takes MXCSR only
	// with x87 or SSE state.
	s = testSet(l, 7)
	binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], 0)
	if err := s.SetRegister(56, le32(0x1f80)); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(s.XSave[xsaveHeader:]); got != 1<<compSSE {
		t.Errorf("XSTATE_BV after mxcsr = %#x, want %#x", got, 1<<compSSE)
	}
}

// TestInitialStateAVX512 does the same for the AVX-512 components and
// PKRU, which are all zeros in their initial configuration: each reads as
// zeros while XSTATE_BV says so, and writing one register of it marks it
// in use with the others zero.
func TestInitialStateAVX512(t *testing.T) {
	l := mustLayout(t, amxCPU())
	s := testSet(l, 61)
	const later = 1<<compOpmask | 1<<compZMMHi256 | 1<<compHi16ZMM | 1<<compPKRU
	bv := l.Features &^ later
	binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], bv)
	check := func(when string, written map[int][]byte) {
		t.Helper()
		for n := firstAVX512; n < l.NumRegs(); n++ {
			info, _ := l.Info(n)
			want, ok := written[n]
			if !ok {
				want = make([]byte, info.Size())
			}
			if got, err := s.AppendRegister(nil, n); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %s = %x, %v; want %x", when, info.Name, got, err, want)
			}
		}
	}
	check("initial", nil)
	written := map[int][]byte{}
	for _, w := range []struct {
		n    int
		comp int
		b    []byte
	}{
		{firstAVX512 + 32 + 3, compOpmask, le64(0xf0f0)}, // k3
		{firstZMMH + 20, compHi16ZMM, seq(32, 0x20)},     // zmm20h
		{firstXMM16 + 4, compHi16ZMM, seq(16, 0x40)},     // xmm20
		{firstPKRU, compPKRU, le32(0x55555554)},          // pkru
		{firstZMMH + 1, compZMMHi256, seq(32, 0x60)},     // zmm1h
	} {
		if err := s.SetRegister(w.n, w.b); err != nil {
			t.Fatal(err)
		}
		written[w.n] = w.b
		bv |= 1 << w.comp
		info, _ := l.Info(w.n)
		check("after "+info.Name, written)
		if got := binary.LittleEndian.Uint64(s.XSave[xsaveHeader:]); got != bv {
			t.Errorf("after %s: XSTATE_BV = %#x, want %#x", info.Name, got, bv)
		}
	}
	if bv != l.Features {
		t.Errorf("XSTATE_BV ends as %#x, want every feature %#x", bv, l.Features)
	}
}

// TestFXSaveHasNoHeader checks that the FXSAVE layout never reads or
// writes an XSAVE header, which its 512 bytes do not have.
func TestFXSaveHasNoHeader(t *testing.T) {
	s := testSet(FXSaveLayout(), 8)
	if len(s.XSave) != 512 {
		t.Fatalf("FXSAVE area is %d bytes", len(s.XSave))
	}
	s.XSave[fxFCW], s.XSave[fxFCW+1] = 0x7f, 0x12
	if got, _ := s.AppendRegister(nil, 32); !bytes.Equal(got, le32(0x127f)) {
		t.Errorf("fctrl = %x, want the stored value", got)
	}
	if err := s.SetRegister(40, seq(16, 9)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.XSave[160:176], seq(16, 9)) {
		t.Error("xmm0 not written")
	}
}

func TestMissingXSave(t *testing.T) {
	avx := mustLayout(t, avx512CPU())
	tests := []struct {
		name  string
		s     *Set
		gSize int // bytes AppendG manages
		// ok lists register numbers that must still work.
		ok, fail []int
	}{
		{"nil XSave", &Set{Layout: avx}, 164, []int{0, 23, 57, 59}, []int{24, 34, 40, 56, 60}},
		{"nil layout", &Set{XSave: make([]byte, 4096)}, 164, []int{0, 16, 59}, []int{24, 56}},
		{"header missing", &Set{Layout: avx, XSave: make([]byte, 512)}, 164, []int{0}, []int{24, 56, 60}},
		{"AVX missing", &Set{Layout: avx, XSave: make([]byte, 576)}, 560, []int{24, 40, 56, 59}, []int{60, 75}},
		{"short FXSAVE", &Set{Layout: FXSaveLayout(), XSave: make([]byte, 511)}, 164, []int{23}, []int{24, 56}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(tt.s.AppendG(nil)); got != tt.gSize {
				t.Errorf("g is %d bytes, want %d", got, tt.gSize)
			}
			for _, n := range tt.ok {
				b, err := tt.s.AppendRegister(nil, n)
				if err != nil {
					t.Errorf("p %d: %v", n, err)
				}
				if err := tt.s.SetRegister(n, b); err != nil {
					t.Errorf("P %d: %v", n, err)
				}
			}
			for _, n := range tt.fail {
				dst := []byte("keep")
				got, err := tt.s.AppendRegister(dst, n)
				if !errors.Is(err, ErrNoXSave) || string(got) != "keep" {
					t.Errorf("p %d = %q, %v; want dst unchanged and ErrNoXSave", n, got, err)
				}
				info, _ := avx.Info(n)
				if err := tt.s.SetRegister(n, make([]byte, info.Size())); !errors.Is(err, ErrNoXSave) {
					t.Errorf("P %d: %v, want ErrNoXSave", n, err)
				}
			}
			// A G packet reaching into XSAVE registers fails as a whole.
			before := cloneSet(tt.s)
			full := testSet(avx, 9).AppendG(nil)
			end := tt.gSize + 10 // through st0
			if tt.gSize == 560 {
				end += 6 // through ymm0h
			}
			if err := tt.s.SetG(full[:end]); !errors.Is(err, ErrNoXSave) {
				t.Errorf("G into missing XSAVE state: %v, want ErrNoXSave", err)
			}
			if !equalSets(tt.s, before) {
				t.Error("failed G changed the set")
			}
		})
	}
}

func TestSetGPrefix(t *testing.T) {
	l := mustLayout(t, avx512CPU())
	src := testSet(l, 10)
	g := src.AppendG(nil)
	for _, k := range []int{0, 1, 16, 17, 24, 25, 40, 56, 57, 60, 75, 76} {
		dst := testSet(l, 11)
		before := cloneSet(dst)
		info, _ := l.Info(k)
		end := info.Offset
		if k == l.NumRegs() {
			end = len(g)
		}
		if err := dst.SetG(g[:end]); err != nil {
			t.Fatalf("G of %d registers: %v", k, err)
		}
		for n := range l.NumRegs() {
			want := before
			if n < k {
				want = src
			}
			a, _ := want.AppendRegister(nil, n)
			b, _ := dst.AppendRegister(nil, n)
			// ftag follows from the ST contents and TOP: a mix of
			// old and new ones gives a tag neither set had.
			mixed := n == 34 && k > 24 && k <= 34
			if !bytes.Equal(a, b) && !mixed {
				t.Errorf("G of %d registers: register %d = %x, want %x", k, n, b, a)
			}
		}
	}
}

func TestSetGBadLength(t *testing.T) {
	for name, l := range testLayouts(t) {
		s := testSet(l, 12)
		before := cloneSet(s)
		g := s.AppendG(nil)
		for _, n := range []int{1, 7, 9, 137, 165, 173, 275, len(g) - 1, len(g) + 1, len(g) + 8, 2 * len(g)} {
			b := make([]byte, n)
			copy(b, g)
			if err := s.SetG(b); err == nil {
				t.Errorf("%s: G of %d bytes accepted", name, n)
			}
			if !equalSets(s, before) {
				t.Fatalf("%s: rejected G of %d bytes changed the set", name, n)
			}
		}
	}
}

func TestUnknownRegister(t *testing.T) {
	for name, l := range testLayouts(t) {
		s := testSet(l, 13)
		for _, n := range []int{-1, l.NumRegs(), numRegs, 1 << 20} {
			if _, err := s.AppendRegister(nil, n); !errors.Is(err, ErrUnknownRegister) {
				t.Errorf("%s: p %d: %v, want ErrUnknownRegister", name, n, err)
			}
			if err := s.SetRegister(n, make([]byte, 16)); !errors.Is(err, ErrUnknownRegister) {
				t.Errorf("%s: P %d: %v, want ErrUnknownRegister", name, n, err)
			}
		}
	}
}

func TestSetRegisterWrongSize(t *testing.T) {
	s := testSet(mustLayout(t, avx512CPU()), 14)
	before := cloneSet(s)
	for _, c := range []struct{ n, size int }{{0, 4}, {0, 9}, {17, 8}, {24, 8}, {24, 16}, {40, 8}, {56, 8}, {60, 32}, {RIP, 0}} {
		if err := s.SetRegister(c.n, make([]byte, c.size)); err == nil {
			t.Errorf("P %d with %d bytes accepted", c.n, c.size)
		}
	}
	if !equalSets(s, before) {
		t.Error("rejected writes changed the set")
	}
}

func TestNoAllocations(t *testing.T) {
	for name, l := range testLayouts(t) {
		s := testSet(l, 15)
		dst := make([]byte, 0, 4096)
		if a := testing.AllocsPerRun(100, func() { s.AppendG(dst[:0]) }); a != 0 {
			t.Errorf("%s: AppendG allocates %v times", name, a)
		}
		if a := testing.AllocsPerRun(100, func() {
			for n := range l.NumRegs() {
				s.AppendRegister(dst[:0], n)
			}
		}); a != 0 {
			t.Errorf("%s: AppendRegister allocates %v times", name, a)
		}
		if !l.FXSaveOnly {
			// Components in their initial configuration take
			// another path.
			binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], 0)
			if a := testing.AllocsPerRun(100, func() { s.AppendG(dst[:0]) }); a != 0 {
				t.Errorf("%s: AppendG of initial state allocates %v times", name, a)
			}
		}
	}
}

func BenchmarkAppendG(b *testing.B) {
	s := testSet(mustLayout(b, amxCPU()), 16)
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.AppendG(dst[:0])
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkAppendRegister(b *testing.B) {
	s := testSet(mustLayout(b, amxCPU()), 17)
	dst := make([]byte, 0, 32)
	for _, n := range []int{RIP, 34, 40, 60, firstZMMH} {
		info, _ := s.Layout.Info(n)
		b.Run(info.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = s.AppendRegister(dst[:0], n)
			}
		})
	}
}
