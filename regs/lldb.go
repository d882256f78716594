package regs

import (
	"strconv"
	"strings"
)

// lldb's register numbering, for its qRegisterInfoN packet (lldb reads
// the target description when it can, and asks register by register
// when it cannot). Numbers 0 to NumRegs()-1 are the table's registers,
// at their g-packet offsets. After them come registers lldb shows that
// are parts of others, derived from the table rather than listed: the
// 32-, 16- and 8-bit views of the sixteen general registers (eax, ax,
// al, ah, r8d, r8w, r8l, ...) inside their 64-bit container, and, when
// the layout has AVX, ymm0 to ymm15, each composed of xmmN (low half) and
// ymmNh (high half).

// subReg is a register lldb shows as part of another.
type subReg struct {
	name string
	bits int
	// parts are the registers it is made of, low part first: one
	// container for a sub-register, xmmN and ymmNh for ymmN.
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

// firstXMM and firstYMMH are the table numbers of xmm0 and ymm0h.
const (
	firstXMM  = 40
	firstYMMH = firstAVX
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
	if l != nil && l.HasAVX {
		for i := range 16 {
			subs = append(subs, subReg{name: "ymm" + strconv.Itoa(i), bits: 256, parts: []int{firstXMM + i, firstYMMH + i}})
		}
	}
	return subs
}

// lldbSet returns the register set lldb files a table register under.
func lldbSet(r *reg) string {
	switch {
	case r.feature == featureAVX:
		return "Advanced Vector Extensions"
	case r.group == "float" || r.feature == featureSSE:
		return "Floating Point Registers"
	}
	return "General Purpose Registers"
}

// gSize returns the length of the layout's g packet in bytes.
func (l *Layout) gSize() int {
	size := 0
	for i := range l.NumRegs() {
		size += amd64Regs[i].bits / 8
	}
	return size
}

// LLDBRegisterInfo returns the qRegisterInfo reply describing lldb
// register n ("name:rax;bitsize:64;offset:0;..."), and false after the
// last register.
func (l *Layout) LLDBRegisterInfo(n int) (string, bool) {
	var b strings.Builder
	field := func(k, v string) { b.WriteString(k + ":" + v + ";") }
	if info, ok := l.Info(n); ok {
		r := &amd64Regs[n]
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
	field("offset", strconv.Itoa(l.gSize()+32*(k-(len(subs)-16))))
	field("encoding", "vector")
	field("format", "vector-uint8")
	field("set", "Advanced Vector Extensions")
	field("container-regs", strings.Join(parts, ","))
	field("invalidate-regs", strings.Join(parts, ","))
	return b.String(), true
}
