package regs

import "encoding/binary"

// This file holds pure functions over XSAVE and FXSAVE images. Section
// numbers refer to the Intel 64 and IA-32 Architectures Software
// Developer's Manual (SDM).

// The legacy region: the first 512 bytes of an XSAVE area, laid out as
// FXSAVE64 stores it in 64-bit mode (SDM Vol. 1 §10.5.1 "FXSAVE Area";
// Vol. 2A FXSAVE, "64-bit mode" layout). The kernel saves 64-bit tasks in
// this format, so FIP and FDP are 64-bit offsets with no selectors.
const (
	fxFCW    = 0   // x87 control word, 16 bits
	fxFSW    = 2   // x87 status word, 16 bits; TOP is bits 11-13
	fxFTW    = 4   // abridged tag word, 8 bits
	fxFOP    = 6   // last x87 opcode, 11 bits in a 16-bit field
	fxFIP    = 8   // last x87 instruction pointer, 64 bits
	fxFDP    = 16  // last x87 data (operand) pointer, 64 bits
	fxMXCSR  = 24  // SSE control and status, 32 bits
	fxST0    = 32  // ST0-ST7 (in stack order), 10 bytes in each 16-byte slot
	fxSTSlot = 16  // bytes per ST slot
	fxXMM0   = 160 // XMM0-XMM15, 16 bytes each
	fxSize   = 512 // the whole legacy region, and all of an FXSAVE image

	stSize  = 10 // bytes of an 80-bit x87 register
	xmmSize = 16 // bytes of an XMM register and of a YMM upper half
)

// The XSAVE header follows the legacy region (SDM Vol. 1 §13.4.2).
// XSTATE_BV says which state components the image holds. A clear bit
// means the component was in its initial configuration (§13.6), and its
// bytes need not show it: XSAVEOPT and XSAVES may skip writing a component
// in that state (§13.9, §13.11).
const (
	xsaveHeader = fxSize           // offset of the header; XSTATE_BV is its first 8 bytes
	xsaveMin    = xsaveHeader + 64 // legacy region plus header: the smallest XSAVE area
)

// XSAVE state components, numbered as the bits of XCR0 and XSTATE_BV
// (SDM Vol. 1 §13.1). Components 0 and 1 live in the legacy region;
// the others sit where CPUID leaf 0xD says (see Layout).
const (
	compX87      = 0
	compSSE      = 1
	compAVX      = 2
	compOpmask   = 5 // AVX-512 opmask registers k0-k7
	compZMMHi256 = 6 // AVX-512 upper 256 bits of zmm0-zmm15
	compHi16ZMM  = 7 // AVX-512 zmm16-zmm31, all 512 bits
	compPKRU     = 9 // protection-key rights
	numComps     = compPKRU + 1
)

// The extent of the components. CPUID leaf 0xD does not enumerate the
// legacy ones (SDM Vol. 1 §13.4.1): x87 state spans bytes 0-159 except
// MXCSR and MXCSR_MASK (24-31), SSE state is XMM0-XMM15 at 160. MXCSR
// belongs to SSE state, but the processor does not track it as in use
// (XINUSE[1] covers only the XMM registers, §13.6) and XSAVE stores it
// whenever SSE or AVX state is requested (§13.7), so it is meaningful even
// when XSTATE_BV[1] is clear.
const (
	x87Size = fxXMM0
	sseSize = 16 * xmmSize
	avxSize = 16 * xmmSize // upper halves of YMM0-YMM15 (SDM Vol. 1 §13.5.3)
)

// The AVX-512 components (SDM Vol. 1 §13.5.5) and PKRU (§13.5.7), whose
// offsets CPUID leaf 0xD gives like AVX's.
const (
	opmaskRegSize = 8                 // one opmask register
	opmaskSize    = 8 * opmaskRegSize // k0-k7
	zmmHalfSize   = 32                // bits 511:256 of a ZMM register
	zmmSize       = 64                // a whole ZMM register
	zmmHi256Size  = 16 * zmmHalfSize  // upper halves of ZMM0-ZMM15
	hi16ZMMSize   = 16 * zmmSize      // ZMM16-ZMM31, each whole
	pkruSize      = 8                 // PKRU and 4 reserved bytes
)

// extendedSizes are the sizes of the components beyond the legacy region
// that registers live in, by index; a layout whose CPUID reports another
// size for one of them is refused.
var extendedSizes = [numComps]int{
	compAVX:      avxSize,
	compOpmask:   opmaskSize,
	compZMMHi256: zmmHi256Size,
	compHi16ZMM:  hi16ZMMSize,
	compPKRU:     pkruSize,
}

// fcwInit is the x87 control word in the initial configuration: all
// exceptions masked, 64-bit precision, round to nearest (SDM Vol. 1
// §13.6; the value FINIT loads).
const fcwInit = 0x037f

// x87 tag values in the full tag word, two bits per physical register
// (SDM Vol. 1 §8.1.7 "x87 FPU Tag Word").
const (
	tagValid   = 0
	tagZero    = 1
	tagSpecial = 2
	tagEmpty   = 3
)

// inUse reports whether XSTATE_BV in the XSAVE image xs has the bit for
// component c. xs must hold the header.
func inUse(xs []byte, c int) bool {
	return binary.LittleEndian.Uint64(xs[xsaveHeader:])&(1<<c) != 0
}

// markInUse sets component c's bit in XSTATE_BV. Without it XRSTOR (and
// the kernel, which copies only components whose bit is set) would put
// the component in its initial configuration and drop what was written.
func markInUse(xs []byte, c int) {
	bv := binary.LittleEndian.Uint64(xs[xsaveHeader:])
	binary.LittleEndian.PutUint64(xs[xsaveHeader:], bv|1<<c)
}

// initX87 writes the x87 component's initial configuration into the
// legacy region fx: FCW 037FH, every other field and register zero, and
// an abridged tag of zero, meaning all registers empty. MXCSR and
// MXCSR_MASK are not touched: they are not x87 state.
func initX87(fx []byte) {
	clear(fx[:fxMXCSR])
	clear(fx[fxST0:x87Size])
	binary.LittleEndian.PutUint16(fx[fxFCW:], fcwInit)
}

// initSSE zeroes XMM0-XMM15 in the legacy region fx, their initial
// configuration.
func initSSE(fx []byte) {
	clear(fx[fxXMM0 : fxXMM0+sseSize])
}

// fullTag returns the 16-bit tag word that FSTENV would store, built from
// the legacy region fx. FXSAVE keeps only one bit per physical register
// (1 = not empty); the full tag also says whether a register holds zero,
// a special value or a valid number, which follows from the register's
// contents (SDM Vol. 1 §8.1.7, §10.5.1). Tags are indexed by physical
// register while the ST slots are in stack order, so physical register
// p is ST((p - TOP) mod 8).
func fullTag(fx []byte) uint16 {
	abridged := fx[fxFTW]
	top := int(binary.LittleEndian.Uint16(fx[fxFSW:])>>11) & 7
	var full uint16
	for p := range 8 {
		tag := uint16(tagEmpty)
		if abridged&(1<<p) != 0 {
			slot := fxST0 + ((p-top)&7)*fxSTSlot
			tag = classify(fx[slot : slot+stSize])
		}
		full |= tag << (2 * p)
	}
	return full
}

// classify returns the tag of a non-empty 80-bit register value v: a
// 64-bit significand with an explicit integer bit 63, then a sign bit and
// a 15-bit biased exponent (SDM Vol. 1 §4.2.2, §8.2.2).
func classify(v []byte) uint16 {
	significand := binary.LittleEndian.Uint64(v)
	exponent := binary.LittleEndian.Uint16(v[8:]) & 0x7fff
	switch {
	case exponent == 0x7fff:
		return tagSpecial // infinity or NaN
	case exponent == 0 && significand == 0:
		return tagZero
	case exponent == 0:
		return tagSpecial // denormal or pseudo-denormal
	case significand>>63 == 0:
		return tagSpecial // unnormal: integer bit clear
	}
	return tagValid
}

// abridgedTag returns the FXSAVE form of the full tag word: one bit per
// physical register, set unless the register is empty (tag 11b).
func abridgedTag(full uint16) byte {
	var a byte
	for p := range 8 {
		if full>>(2*p)&3 != tagEmpty {
			a |= 1 << p
		}
	}
	return a
}
