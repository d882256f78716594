package regs

import (
	"fmt"
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
	// AVXOffset is the offset of component 2 in the area; meaningful
	// only when HasAVX.
	AVXOffset int

	// components lists the enabled components by index.
	components []Component

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
	return &Layout{
		Size:       fxSize,
		Features:   1<<compX87 | 1<<compSSE,
		FXSaveOnly: true,
		components: legacyComponents(),
	}
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
	enabled := xcr0() & supported
	const legacy = 1<<compX87 | 1<<compSSE
	if enabled&legacy != legacy {
		return nil, fmt.Errorf("regs: XCR0 %#x lacks x87 or SSE state", enabled)
	}
	l := &Layout{
		Size:       int(ebx),
		Features:   enabled,
		components: legacyComponents(),
	}
	if l.Size < xsaveMin {
		return nil, fmt.Errorf("regs: CPUID reports an XSAVE area of %d bytes, less than %d", l.Size, xsaveMin)
	}

	// Subleaf i >= 2: EAX is component i's size, EBX its offset in the
	// standard format; ECX bit 0 marks supervisor components, which XCR0
	// never enables and the user-visible area never holds. Bit 63 of
	// XCR0 is reserved.
	for i := 2; i < 63; i++ {
		if enabled&(1<<i) == 0 {
			continue
		}
		size, off, flags, _ := cpuid(leafXSave, uint32(i))
		if flags&1 != 0 {
			return nil, fmt.Errorf("regs: XCR0 enables supervisor state component %d", i)
		}
		c := Component{Index: i, Offset: int(off), Size: int(size)}
		if c.Size == 0 || c.Offset < xsaveMin || c.Offset+c.Size > l.Size {
			return nil, fmt.Errorf("regs: XSAVE component %d at %d+%d does not fit the %d-byte area", i, c.Offset, c.Size, l.Size)
		}
		l.components = append(l.components, c)
	}

	if c, ok := l.Component(compAVX); ok {
		if c.Size != avxSize {
			return nil, fmt.Errorf("regs: AVX state is %d bytes, want %d", c.Size, avxSize)
		}
		l.HasAVX = true
		l.AVXOffset = c.Offset
	}
	return l, nil
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

// NumRegs returns the number of registers in the layout: 76 with AVX, 60
// without. Registers are numbered from 0, in g-packet order. A nil Layout
// has the registers every x86-64 layout has.
func (l *Layout) NumRegs() int {
	if l != nil && l.HasAVX {
		return numRegs
	}
	return firstAVX
}

// Info describes register n, and returns false when the layout has no
// register n.
func (l *Layout) Info(n int) (RegInfo, bool) {
	if n < 0 || n >= l.NumRegs() {
		return RegInfo{}, false
	}
	off := 0
	for i := range n {
		off += amd64Regs[i].bits / 8
	}
	r := &amd64Regs[n]
	return RegInfo{
		Name:    r.name,
		Num:     n,
		Bits:    r.bits,
		Offset:  off,
		Feature: r.feature,
		Type:    r.typ,
		Group:   r.group,
		DWARF:   r.dwarf,
		EHFrame: r.dwarf,
		Generic: r.generic,
	}, true
}
