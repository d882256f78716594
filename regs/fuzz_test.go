package regs

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// readBack returns what reading register n gives after b was written to
// it: b itself, except where the hardware field is narrower than gdb's
// view of it. The tag word is not covered: it reads back recomputed from
// the registers, and only its abridged form is kept.
func readBack(n int, b []byte) []byte {
	switch amd64Regs[n].kind {
	case kX87Word:
		return le32(uint32(binary.LittleEndian.Uint16(b)))
	case kFOP:
		return le32(binary.LittleEndian.Uint32(b) & 0x7ff)
	}
	return b
}

const ftagNum = 34

// sameRegister reports whether register n, written as want, reads as got.
func sameRegister(n int, got, want []byte) bool {
	if n == ftagNum {
		return abridgedTag(uint16(binary.LittleEndian.Uint32(got))) == abridgedTag(uint16(binary.LittleEndian.Uint32(want)))
	}
	return bytes.Equal(got, readBack(n, want))
}

// fuzzSet returns a copy of base whose XSTATE_BV has the bits of the
// components registers live in from bv (x87, SSE, AVX from bits 0-2, the
// AVX-512 components from 3-5, PKRU from 6), so that the fuzzer also
// covers components in their initial configuration.
func fuzzSet(base *Set, bv uint8) *Set {
	s := cloneSet(base)
	const comps = 1<<compX87 | 1<<compSSE | 1<<compAVX | 1<<compOpmask | 1<<compZMMHi256 | 1<<compHi16ZMM | 1<<compPKRU
	b := uint64(bv)
	in := b&7 | (b>>3&7)<<compOpmask | (b>>6&1)<<compPKRU
	features := s.Layout.Features&^comps | in&s.Layout.Features
	binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], features)
	return s
}

// regBoundaries returns the g-packet lengths that end on a register
// boundary, mapped to the number of registers they cover.
func regBoundaries(l *Layout) map[int]int {
	ends := map[int]int{0: 0}
	for n := range l.NumRegs() {
		info, _ := l.Info(n)
		ends[info.Offset+info.Size()] = n + 1
	}
	return ends
}

func FuzzSetG(f *testing.F) {
	base := testSet(mustLayout(f, amxCPU()), 42)
	full := testSet(base.Layout, 1).AppendG(nil)
	f.Add(full, uint8(7))
	f.Add(full[:560], uint8(0))
	f.Add(full[:164], uint8(1))
	f.Add(full[:165], uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Add(append(bytes.Clone(full), 0), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, bv uint8) {
		s := fuzzSet(base, bv)
		before := cloneSet(s)
		err := s.SetG(data)
		k, ok := regBoundaries(s.Layout)[len(data)]
		if ok != (err == nil) {
			t.Fatalf("SetG of %d bytes: %v", len(data), err)
		}
		if err != nil {
			if !equalSets(s, before) {
				t.Fatal("failed SetG changed the set")
			}
			return
		}
		out := s.AppendG(nil)
		for n := range s.Layout.NumRegs() {
			info, _ := s.Layout.Info(n)
			got := out[info.Offset : info.Offset+info.Size()]
			if n < k {
				if !sameRegister(n, got, data[info.Offset:info.Offset+info.Size()]) {
					t.Fatalf("register %d reads %x after G wrote %x", n, got, data[info.Offset:info.Offset+info.Size()])
				}
				continue
			}
			old, _ := before.AppendRegister(nil, n)
			if n != ftagNum && !bytes.Equal(got, old) {
				t.Fatalf("register %d beyond the G packet changed from %x to %x", n, old, got)
			}
		}
		// What G wrote reads back in a normal form that writing again
		// keeps.
		again := fuzzSet(base, bv)
		if err := again.SetG(out[:len(data)]); err != nil {
			t.Fatal(err)
		}
		if got := again.AppendG(nil); !bytes.Equal(got, out) {
			t.Fatalf("G of g's prefix is not a fixed point:\n got %x\nwant %x", got, out)
		}
	})
}

func FuzzSetRegister(f *testing.F) {
	base := testSet(mustLayout(f, amxCPU()), 42)
	f.Add(0, le64(1), uint8(7))
	f.Add(17, le32(0x246), uint8(7))
	f.Add(24, seq(10, 1), uint8(0))
	f.Add(34, le32(0xfffc), uint8(0))
	f.Add(39, le32(0xffff), uint8(1))
	f.Add(56, le32(0x1f80), uint8(0))
	f.Add(60, seq(16, 2), uint8(3))
	f.Add(75, seq(15, 2), uint8(7))
	f.Add(76, seq(16, 2), uint8(7))
	f.Add(110, le64(3), uint8(0x7f))
	f.Add(120, seq(32, 2), uint8(0x0f))
	f.Add(148, le32(0x55555554), uint8(0x3f))
	f.Add(149, le32(0), uint8(0xff))
	f.Add(-1, le64(0), uint8(7))
	f.Fuzz(func(t *testing.T, n int, b []byte, bv uint8) {
		s := fuzzSet(base, bv)
		before := cloneSet(s)
		err := s.SetRegister(n, b)
		info, ok := s.Layout.Info(n)
		if valid := ok && len(b) == info.Size(); valid != (err == nil) {
			t.Fatalf("SetRegister(%d, %d bytes): %v", n, len(b), err)
		}
		if err != nil {
			if !equalSets(s, before) {
				t.Fatal("failed SetRegister changed the set")
			}
			return
		}
		got, err := s.AppendRegister(nil, n)
		if err != nil {
			t.Fatal(err)
		}
		if !sameRegister(n, got, b) {
			t.Fatalf("register %d reads %x after P wrote %x", n, got, b)
		}
		for m := range s.Layout.NumRegs() {
			if m == n || (m == ftagNum && n >= 24 && n <= 33) {
				continue // ftag follows from the ST registers and TOP
			}
			a, _ := before.AppendRegister(nil, m)
			c, _ := s.AppendRegister(nil, m)
			if !bytes.Equal(a, c) {
				t.Fatalf("writing register %d changed register %d from %x to %x", n, m, a, c)
			}
		}
	})
}
