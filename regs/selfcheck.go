package regs

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"

	"procgdb/internal/selftest"
)

// SelfChecks returns regs' checks for procgdb --selftest: this machine's
// XSAVE layout can be read from CPUID, its target description describes
// the registers of the g packet, and the g packet carries every register
// from one set to another.
func SelfChecks() []selftest.Check {
	return []selftest.Check{
		{Name: "regs: this machine's register layout (CPUID)", Run: checkHostLayout},
		{Name: "regs: the target description matches the g packet", Run: checkTargetXML},
		{Name: "regs: the g and G packets carry every register", Run: checkGTransfer},
	}
}

func checkHostLayout() (string, error) {
	l, err := HostLayout()
	if err != nil {
		return "", err
	}
	kind := "XSAVE"
	if l.FXSaveOnly {
		kind = "FXSAVE only"
	}
	avx := "without AVX"
	if l.HasAVX {
		avx = "with AVX"
	}
	return fmt.Sprintf("%s, %d bytes, %s, %d registers", kind, l.Size, avx, l.NumRegs()), nil
}

// checkTargetXML reads the description back: every register in the
// layout's order, with the layout's name and size, summing to the size
// of a g packet.
func checkTargetXML() (string, error) {
	l, err := HostLayout()
	if err != nil {
		return "", err
	}
	var d struct {
		Features []struct {
			Regs []struct {
				Name    string `xml:"name,attr"`
				Bitsize int    `xml:"bitsize,attr"`
				Regnum  int    `xml:"regnum,attr"`
			} `xml:"reg"`
		} `xml:"feature"`
	}
	if err := xml.Unmarshal(l.TargetXML(), &d); err != nil {
		return "", err
	}
	n, bytes := 0, 0
	for _, f := range d.Features {
		for _, r := range f.Regs {
			info, ok := l.Info(n)
			if !ok || r.Regnum != n || r.Name != info.Name || r.Bitsize != info.Bits {
				return "", fmt.Errorf("register %d is described as %s (%d bits, number %d)", n, r.Name, r.Bitsize, r.Regnum)
			}
			n++
			bytes += r.Bitsize / 8
		}
	}
	g := len(patternSet(l, 1).AppendG(nil))
	if n != l.NumRegs() || bytes != g {
		return "", fmt.Errorf("%d registers of %d bytes described, the g packet has %d registers of %d bytes", n, bytes, l.NumRegs(), g)
	}
	return "", nil
}

// checkGTransfer copies one set of registers into another through g and
// G, and reads every register back.
func checkGTransfer() (string, error) {
	l, err := HostLayout()
	if err != nil {
		return "", err
	}
	src, dst := patternSet(l, 3), patternSet(l, 5)
	g := src.AppendG(nil)
	if err := dst.SetG(g); err != nil {
		return "", err
	}
	if dst.GPR != src.GPR {
		return "", fmt.Errorf("general registers differ after G")
	}
	for n := range l.NumRegs() {
		a, err1 := src.AppendRegister(nil, n)
		b, err2 := dst.AppendRegister(nil, n)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			info, _ := l.Info(n)
			return "", fmt.Errorf("register %d (%s) is %x after G, want %x", n, info.Name, b, a)
		}
	}
	return fmt.Sprintf("%d bytes", len(g)), nil
}

// patternSet returns a set whose registers hold distinct values made from
// seed (a xorshift sequence), valid as the kernel would give it: an 11-bit
// last opcode, every component of the layout in use.
func patternSet(l *Layout, seed byte) *Set {
	x := uint32(seed)*2654435761 | 1
	next := func() uint32 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return x
	}
	s := &Set{Layout: l, XSave: make([]byte, l.Size)}
	for i := range s.XSave {
		s.XSave[i] = byte(next())
	}
	for i := range amd64Regs {
		r := &amd64Regs[i]
		switch r.kind {
		case kGPR:
			*r.gpr(&s.GPR) = uint64(next())<<32 | uint64(next())
		case kGPR32:
			*r.gpr(&s.GPR) = uint64(next())
		}
	}
	s.XSave[fxFOP+1] &= 0x07
	if !l.FXSaveOnly {
		binary.LittleEndian.PutUint64(s.XSave[xsaveHeader:], l.Features)
	}
	return s
}
