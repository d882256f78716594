package regs

import (
	"strconv"
	"strings"
)

// lldb's register numbering, for its qRegisterInfoN packet (lldb reads
// the target description when it can, and asks register by register
// when it cannot). Numbers 0 to NumRegs()-1 are the layout's registers,
// at their g-packet offsets. After them come registers lldb shows that
// are parts of others, derived from the table rather than listed: the
// 32-, 16- and 8-bit views of the sixteen general registers (eax, ax,
// al, ah, r8d, r8w, r8l, ...) inside their 64-bit container, then the
// vector registers composed of their parts, low part first: when the
// layout has AVX, ymm0 to ymm15 (xmmN and ymmNh), and when it has
// AVX-512, ymm16 to ymm31 (xmmN and ymmNh) and zmm0 to zmm31 (xmmN, ymmNh
// and zmmNh).

// subReg is a register lldb shows as part of another, or made of others.
type subReg struct {
	name string
	bits int
	// parts are the registers it is made of, low part first: one
	// container for a sub-register, xmmN, ymmNh (and zmmNh) for ymmN
	// (zmmN).
	parts []int
	// shift is the byte offset of a sub-register in its container.
	shift int
}

// gprViews names the 32-, 16-, low 8- and high 8-bit views of the first
// sixteen registers of the table; "" where x86-64 has none.
var gprViews = [16][4]string{
	{"eax", "ax", "al", "ah"},
	{"ebx", "bx", "bl", "bh"},
	{"ecx", "cx", "cl", "ch"},
	{"edx", "dx", "dl", "dh"},
	{"esi", "si", "sil", ""},
	{"edi", "di", "dil", ""},
	{"ebp", "bp", "bpl", ""},
	{"esp", "sp", "spl", ""},
	{"r8d", "r8w", "r8l", ""},
	{"r9d", "r9w", "r9l", ""},
	{"r10d", "r10w", "r10l", ""},
	{"r11d", "r11w", "r11l", ""},
	{"r12d", "r12w", "r12l", ""},
	{"r13d", "r13w", "r13l", ""},
	{"r14d", "r14w", "r14l", ""},
	{"r15d", "r15w", "r15l", ""},
}

// Table rows of the first register of each run the composites are made
// of.
const (
	firstXMM    = 40               // xmm0
	firstYMMH   = firstAVX         // ymm0h
	firstXMM16  = firstAVX512      // xmm16
	firstYMM16H = firstAVX512 + 16 // ymm16h
	firstZMMH   = firstAVX512 + 40 // zmm0h
)

// subRegs returns the derived registers of the layout, numbered from
// NumRegs().
func (l *Layout) subRegs() []subReg {
	var subs []subReg
	for i, views := range gprViews {
		for v, name := range views {
			if name == "" {
				continue
			}
			bits := [4]int{32, 16, 8, 8}[v]
			shift := 0
			if v == 3 {
				shift = 1
			}
			subs = append(subs, subReg{name: name, bits: bits, parts: []int{i}, shift: shift})
		}
	}
	if l == nil || !l.HasAVX {
		return subs
	}
	// With AVX, and with AVX-512 (which needs AVX), every group up to
	// the composites' parts is present: their numbers are their rows.
	xmm := func(i int) int {
		if i < 16 {
			return firstXMM + i
		}
		return firstXMM16 + i - 16
	}
	ymmh := func(i int) int {
		if i < 16 {
			return firstYMMH + i
		}
		return firstYMM16H + i - 16
	}
	ymms := 16
	if l.HasAVX512 {
		ymms = 32
	}
	for i := range ymms {
		subs = append(subs, subReg{name: "ymm" + strconv.Itoa(i), bits: 256, parts: []int{xmm(i), ymmh(i)}})
	}
	if l.HasAVX512 {
		for i := range 32 {
			subs = append(subs, subReg{name: "zmm" + strconv.Itoa(i), bits: 512, parts: []int{xmm(i), ymmh(i), firstZMMH + i}})
		}
	}
	return subs
}

// lldbSet returns the register set lldb files a table register under.
func lldbSet(r *reg) string {
	switch {
	case r.feature == featureAVX:
		return "Advanced Vector Extensions"
	case r.feature == featureAVX512:
		return "Advanced Vector Extensions 512"
	case r.feature == featurePKeys:
		return "Memory Protection Keys"
	case r.group == "float" || r.feature == featureSSE:
		return "Floating Point Registers"
	}
	return "General Purpose Registers"
}

// LLDBRegisterInfo returns the qRegisterInfo reply describing lldb
// register n ("name:rax;bitsize:64;offset:0;..."), and false after the
// last register.
func (l *Layout) LLDBRegisterInfo(n int) (string, bool) {
	var b strings.Builder
	field := func(k, v string) { b.WriteString(k + ":" + v + ";") }
	if info, ok := l.Info(n); ok {
		r := l.row(n)
		field("name", info.Name)
		if info.Generic != "" && !strings.HasPrefix(info.Generic, "arg") {
			field("alt-name", info.Generic)
		}
		field("bitsize", strconv.Itoa(info.Bits))
		field("offset", strconv.Itoa(info.Offset))
		field("encoding", info.LLDBEncoding())
		field("format", info.LLDBFormat())
		field("set", lldbSet(r))
		if info.EHFrame >= 0 {
			field("ehframe", strconv.Itoa(info.EHFrame))
		}
		if info.DWARF >= 0 {
			field("dwarf", strconv.Itoa(info.DWARF))
		}
		if info.Generic != "" {
			field("generic", info.Generic)
		}
		if n < len(gprViews) {
			// Writing rax changes eax, ax, al and ah.
			var inv []string
			for k, s := range l.subRegs() {
				if len(s.parts) == 1 && s.parts[0] == n {
					inv = append(inv, strconv.FormatInt(int64(l.NumRegs()+k), 16))
				}
			}
			field("invalidate-regs", strings.Join(inv, ","))
		}
		return b.String(), true
	}
	subs := l.subRegs()
	k := n - l.NumRegs()
	if k < 0 || k >= len(subs) {
		return "", false
	}
	s := subs[k]
	field("name", s.name)
	field("bitsize", strconv.Itoa(s.bits))
	var parts []string
	for _, p := range s.parts {
		parts = append(parts, strconv.FormatInt(int64(p), 16))
	}
	if len(s.parts) == 1 {
		c, _ := l.Info(s.parts[0])
		field("offset", strconv.Itoa(c.Offset+s.shift))
		field("encoding", "uint")
		field("format", "hex")
		field("set", "General Purpose Registers")
		field("container-regs", parts[0])
		// Writing eax changes rax and its other views.
		inv := []string{parts[0]}
		for j, o := range subs {
			if j != k && len(o.parts) == 1 && o.parts[0] == s.parts[0] {
				inv = append(inv, strconv.FormatInt(int64(l.NumRegs()+j), 16))
			}
		}
		field("invalidate-regs", strings.Join(inv, ","))
		return b.String(), true
	}
	// A composite gets its own place after the g packet, where lldb
	// assembles it from its parts.
	off := l.gOffsetOf(l.NumRegs())
	for _, o := range subs[:k] {
		if len(o.parts) > 1 {
			off += o.bits / 8
		}
	}
	set := "Advanced Vector Extensions"
	if s.bits > 256 || s.parts[0] >= firstXMM16 {
		set = "Advanced Vector Extensions 512"
	}
	field("offset", strconv.Itoa(off))
	field("encoding", "vector")
	field("format", "vector-uint8")
	field("set", set)
	field("container-regs", strings.Join(parts, ","))
	field("invalidate-regs", strings.Join(parts, ","))
	return b.String(), true
}
