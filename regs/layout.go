package regs

import (
	"fmt"
	"slices"
	"sync"
)

// Layout describes the XSAVE area of the CPU and kernel at hand: how large
// it is and where each state component sits. The size and offsets vary
// between processors (AVX-512 and AMX state make the area several
// kilobytes long), so they come from CPUID, never from assumptions.
//
// Build a Layout with HostLayout or FXSaveLayout and treat its fields as
// read-only: the register set and the target description derive from
// them. A Layout is safe for concurrent use.
type Layout struct {
	// Size is the length in bytes of the XSAVE area, in the standard
	// (non-compacted) format, for the enabled state components: the
	// buffer PTRACE_GETREGSET NT_X86_XSTATE fills. It is 512 for
	// FXSaveLayout.
	Size int
	// Features is the set of enabled state components (the OS's XCR0):
	// bit i set means component i is present in the area.
	Features uint64
	// FXSaveOnly reports an area in the 512-byte FXSAVE format, with no
	// XSAVE header, as PTRACE_GETFPREGS returns it on kernels without
	// NT_X86_XSTATE.
	FXSaveOnly bool
	// HasAVX reports that component 2 (AVX: the upper halves of YMM0-15)
	// is enabled, so registers ymm0h to ymm15h exist.
	HasAVX bool
	// HasAVX512 reports that components 5 to 7 (opmask, ZMM_Hi256 and
	// Hi16_ZMM) are enabled as well as AVX, so that k0-k7, xmm16-xmm31
	// and the upper halves of ymm16-ymm31 and zmm0-zmm31 exist.
	HasAVX512 bool
	// HasPKRU reports that component 9 (PKRU) is enabled: register pkru
	// exists.
	HasPKRU bool

	// components lists the enabled components by index.
	components []Component
	// offset and end locate the components registers live in, by
	// index; zero for absent ones.
	offset, end [numComps]int
	// rows are the table rows of the layout's registers, by register
	// number, and gOffset their offsets in the g packet, with the
	// packet's length last.
	rows    []*reg
	gOffset []int

	tdescOnce sync.Once
	tdesc     []byte
}

// Component is where one XSAVE state component sits in the standard
// format (SDM Vol. 1 §13.4).
type Component struct {
	// Index is the component's number: its bit in XCR0 and XSTATE_BV.
	Index int
	// Offset and Size locate the component's bytes in the area.
	Offset, Size int
}

// FXSaveLayout returns the layout of a 512-byte FXSAVE image: x87 and SSE
// state only, no XSAVE header, no AVX. Use it when the kernel does not
// offer NT_X86_XSTATE and the target falls back to PTRACE_GETFPREGS.
func FXSaveLayout() *Layout {
	l := &Layout{
		Size:       fxSize,
		Features:   1<<compX87 | 1<<compSSE,
		FXSaveOnly: true,
		components: legacyComponents(),
	}
	l.number()
	return l
}

// NewLayout returns the layout of a standard-format XSAVE area of size
// bytes holding the state components features enables (XCR0's bits),
// where comps says where each component from 2 on sits, as CPUID leaf 0xD
// reports it: the layout of a machine other than this one (HostLayout
// asks this one's CPU). Components 0 and 1 are in the legacy region and
// need no entry; comps may list components features does not enable,
// which are ignored. It fails when the placement cannot be right: x87 or
// SSE state not enabled, an enabled component missing, outside the area
// or overlapping the legacy region and header, or a component registers
// live in with a size other than the SDM's.
func NewLayout(size int, features uint64, comps []Component) (*Layout, error) {
	const legacy = 1<<compX87 | 1<<compSSE
	if features&legacy != legacy {
		return nil, fmt.Errorf("regs: XCR0 %#x lacks x87 or SSE state", features)
	}
	if size < xsaveMin {
		return nil, fmt.Errorf("regs: an XSAVE area of %d bytes, less than %d", size, xsaveMin)
	}
	l := &Layout{Size: size, Features: features, components: legacyComponents()}
	for i := 2; i < 64; i++ {
		if features&(1<<i) == 0 {
			continue
		}
		k := slices.IndexFunc(comps, func(c Component) bool { return c.Index == i })
		c := Component{Index: i}
		if k >= 0 {
			c = comps[k]
		}
		if c.Size <= 0 || c.Offset < xsaveMin || c.Offset+c.Size > size {
			return nil, fmt.Errorf("regs: XSAVE component %d at %d+%d does not fit the %d-byte area", i, c.Offset, c.Size, size)
		}
		if i < numComps && extendedSizes[i] != 0 && c.Size != extendedSizes[i] {
			return nil, fmt.Errorf("regs: %s state is %d bytes, want %d", componentNames[i], c.Size, extendedSizes[i])
		}
		l.components = append(l.components, c)
	}
	l.number()
	return l, nil
}

// componentNames names the components of extendedSizes, for errors.
var componentNames = [numComps]string{
	compAVX:      "AVX",
	compOpmask:   "opmask",
	compZMMHi256: "ZMM_Hi256",
	compHi16ZMM:  "Hi16_ZMM",
	compPKRU:     "PKRU",
}

// number decides which groups of registers the layout has, from its
// components, and numbers its registers.
func (l *Layout) number() {
	for _, c := range l.components {
		if c.Index < numComps {
			l.offset[c.Index], l.end[c.Index] = c.Offset, c.Offset+c.Size
		}
	}
	has := func(comps ...int) bool {
		for _, c := range comps {
			if _, ok := l.Component(c); !ok {
				return false
			}
		}
		return true
	}
	l.HasAVX = has(compAVX)
	l.HasAVX512 = l.HasAVX && has(compOpmask, compZMMHi256, compHi16ZMM)
	l.HasPKRU = has(compPKRU)
	groups := []struct {
		first, end int
		on         bool
	}{
		{0, firstAVX, true},
		{firstAVX, firstAVX512, l.HasAVX},
		{firstAVX512, firstPKRU, l.HasAVX512},
		{firstPKRU, numRegs, l.HasPKRU},
	}
	off := 0
	for _, g := range groups {
		if !g.on {
			continue
		}
		for row := g.first; row < g.end; row++ {
			l.rows = append(l.rows, &amd64Regs[row])
			l.gOffset = append(l.gOffset, off)
			off += amd64Regs[row].bits / 8
		}
	}
	l.gOffset = append(l.gOffset, off)
}

// legacyComponents returns components 0 and 1, whose places in the legacy
// region are fixed rather than enumerated by CPUID.
func legacyComponents() []Component {
	return []Component{
		{Index: compX87, Offset: 0, Size: x87Size},
		{Index: compSSE, Offset: fxXMM0, Size: sseSize},
	}
}

// cpuidFunc executes CPUID with the given leaf (EAX) and subleaf (ECX).
type cpuidFunc func(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// CPUID bits that layoutFromCPUID reads (SDM Vol. 2A, CPUID).
const (
	leafFeatures = 0x1
	leafXSave    = 0xd
	osxsaveBit   = 1 << 27 // leaf 1 ECX: the OS has enabled XSAVE and XGETBV
)

// layoutFromCPUID builds the layout from CPUID leaf 0xD (SDM Vol. 1 §13.2)
// and the enabled-feature mask XCR0. xcr0 is called only when CPUID says
// XGETBV may be used, because it faults otherwise.
func layoutFromCPUID(cpuid cpuidFunc, xcr0 func() uint64) (*Layout, error) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < leafXSave {
		return FXSaveLayout(), nil
	}
	if _, _, ecx, _ := cpuid(leafFeatures, 0); ecx&osxsaveBit == 0 {
		// The kernel runs without XSAVE, so it has no NT_X86_XSTATE
		// regset either.
		return FXSaveLayout(), nil
	}

	// Subleaf 0: EDX:EAX are the components the processor supports in
	// XCR0, EBX the area size for those enabled in XCR0 now. The kernel
	// may enable fewer than the processor supports, and its regset
	// holds exactly the enabled ones.
	eax, ebx, _, edx := cpuid(leafXSave, 0)
	supported := uint64(edx)<<32 | uint64(eax)
	// Bit 63 of XCR0 is reserved.
	enabled := xcr0() & supported &^ (1 << 63)

	// Subleaf i >= 2: EAX is component i's size, EBX its offset in the
	// standard format; ECX bit 0 marks supervisor components, which XCR0
	// never enables and the user-visible area never holds.
	var comps []Component
	for i := 2; i < 63; i++ {
		if enabled&(1<<i) == 0 {
			continue
		}
		size, off, flags, _ := cpuid(leafXSave, uint32(i))
		if flags&1 != 0 {
			return nil, fmt.Errorf("regs: XCR0 enables supervisor state component %d", i)
		}
		comps = append(comps, Component{Index: i, Offset: int(off), Size: int(size)})
	}
	return NewLayout(int(ebx), enabled, comps)
}

// Component returns the place of state component i, and false when the
// layout does not have it.
func (l *Layout) Component(i int) (Component, bool) {
	for _, c := range l.components {
		if c.Index == i {
			return c, true
		}
	}
	return Component{}, false
}

// NumRegs returns the number of registers in the layout: 60 that every
// x86-64 has, 16 more with AVX, 72 more with AVX-512 and 1 with PKRU.
// Registers are numbered from 0, in g-packet order. A nil Layout has the
// registers every x86-64 layout has.
func (l *Layout) NumRegs() int {
	if l == nil {
		return firstAVX
	}
	return len(l.rows)
}

// row returns the table row of register n, or nil when the layout has no
// register n.
func (l *Layout) row(n int) *reg {
	if l == nil {
		if n < 0 || n >= firstAVX {
			return nil
		}
		return &amd64Regs[n]
	}
	if uint(n) >= uint(len(l.rows)) {
		return nil
	}
	return l.rows[n]
}

// gOffsetOf returns the offset of register n in the g packet, or its
// length for n == NumRegs().
func (l *Layout) gOffsetOf(n int) int {
	if l != nil {
		return l.gOffset[n]
	}
	off := 0
	for i := range n {
		off += amd64Regs[i].bits / 8
	}
	return off
}

// Info describes register n, and returns false when the layout has no
// register n.
func (l *Layout) Info(n int) (RegInfo, bool) {
	r := l.row(n)
	if r == nil {
		return RegInfo{}, false
	}
	return RegInfo{
		Name:    r.name,
		Num:     n,
		Bits:    r.bits,
		Offset:  l.gOffsetOf(n),
		Feature: r.feature,
		Type:    r.typ,
		Group:   r.group,
		DWARF:   r.dwarf,
		EHFrame: r.dwarf,
		Generic: r.generic,
	}, true
}
