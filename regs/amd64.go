package regs

import (
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// Register numbers that other packages name directly. A stop reply
// expedites the general registers, RAX to EFLAGS.
const (
	RAX    = 0
	RBP    = 6
	RSP    = 7
	RIP    = 16
	EFLAGS = 17
)

// Target-description features, as gdb names them. gdb recognises an
// amd64 GNU/Linux target by these names and requires certain registers in
// each (see the table below).
const (
	featureCore     = "org.gnu.gdb.i386.core"
	featureSSE      = "org.gnu.gdb.i386.sse"
	featureLinux    = "org.gnu.gdb.i386.linux"
	featureSegments = "org.gnu.gdb.i386.segments"
	featureAVX      = "org.gnu.gdb.i386.avx"
	featureAVX512   = "org.gnu.gdb.i386.avx512"
	featurePKeys    = "org.gnu.gdb.i386.pkeys"
)

// RegInfo describes one register as the clients see it. Everything lldb's
// qRegisterInfo reply needs is here or derived from here (see LLDBEncoding
// and LLDBFormat).
type RegInfo struct {
	// Name is gdb's name for the register.
	Name string
	// Num is gdb's register number: the regnum in the target
	// description, the number in p and P packets, and the register's
	// position in the g packet.
	Num int
	// Bits is the size of the register on the wire.
	Bits int
	// Offset is the register's byte offset in the g packet.
	Offset int
	// Feature is the target-description feature holding the register.
	Feature string
	// Type is the target-description type (int64, code_ptr, i387_ext,
	// vec128, ...).
	Type string
	// Group is gdb's register group (general, float, sse, vector,
	// system). It is empty for the ymmNh halves, which gdb shows only
	// through its ymmN pseudo-registers.
	Group string
	// DWARF is the register's number in DWARF debug information under
	// the x86-64 System V psABI, or -1 when it has none.
	DWARF int
	// EHFrame is the register's number in .eh_frame unwind tables, or
	// -1. On x86-64 the psABI uses one numbering for both, but lldb asks
	// for each separately.
	EHFrame int
	// Generic is lldb's generic role for the register: pc, sp, fp,
	// flags, or arg1 to arg6 for the System V argument registers. It is
	// empty for the others.
	Generic string
}

// Size returns the register's size in bytes on the wire.
func (r RegInfo) Size() int { return r.Bits / 8 }

// LLDBEncoding returns the encoding lldb's qRegisterInfo expects for the
// register: ieee754 for the x87 stack, vector for 128-bit registers and
// the 256-bit upper halves of zmm, uint otherwise.
func (r RegInfo) LLDBEncoding() string {
	switch r.Type {
	case "i387_ext":
		return "ieee754"
	case "vec128", "uint128", "v2ui128":
		return "vector"
	}
	return "uint"
}

// LLDBFormat returns the display format lldb's qRegisterInfo expects,
// matching LLDBEncoding.
func (r RegInfo) LLDBFormat() string {
	switch r.Type {
	case "i387_ext":
		return "float"
	case "vec128", "uint128", "v2ui128":
		return "vector-uint8"
	}
	return "hex"
}

// kind says where a register's value lives and how it is converted between
// the kernel's representation and gdb's.
type kind uint8

const (
	// kGPR is a 64-bit field of unix.PtraceRegs.
	kGPR kind = iota
	// kGPR32 is the low half of a unix.PtraceRegs field: eflags and the
	// segment selectors, which gdb shows as 32 bits. The upper halves
	// are zero in hardware, so writing zero-extends.
	kGPR32
	// kST is an 80-bit x87 register in a 16-byte slot of the legacy
	// region.
	kST
	// kX87Word is a 16-bit x87 field (FCW, FSW) that gdb shows as 32
	// bits.
	kX87Word
	// kX87Dword is a 32-bit half of the 64-bit FIP or FDP.
	kX87Dword
	// kFTW is the tag word: gdb shows the full 16-bit form, FXSAVE keeps
	// the abridged 8-bit form.
	kFTW
	// kFOP is the 11-bit last-opcode field.
	kFOP
	// kXMM is a 128-bit SSE register in the legacy region.
	kXMM
	// kMXCSR is the SSE control and status register.
	kMXCSR
	// The kinds from here on are bytes of a state component that XSAVE
	// keeps beyond the legacy region, held as they are. Each of these
	// components is all zeros in its initial configuration (SDM Vol. 1
	// §13.6).
	//
	// kYMMH is the upper 128 bits of a ymm register, in the AVX
	// component.
	kYMMH
	// kOpmask is an opmask register k0-k7, in the opmask component.
	kOpmask
	// kZMMHi256 is the upper 256 bits of zmm0-zmm15, in the ZMM_Hi256
	// component.
	kZMMHi256
	// kHi16ZMM is a part of zmm16-zmm31 (xmm16-xmm31, the upper halves
	// of ymm16-ymm31, or the upper halves of zmm16-zmm31), in the
	// Hi16_ZMM component.
	kHi16ZMM
	// kPKRU is the protection-key rights register, in the PKRU
	// component.
	kPKRU
)

// component returns the XSAVE state component holding registers of this
// kind, or -1 for registers that come from PTRACE_GETREGS.
func (k kind) component() int {
	switch k {
	case kGPR, kGPR32:
		return -1
	case kXMM, kMXCSR:
		return compSSE
	case kYMMH:
		return compAVX
	case kOpmask:
		return compOpmask
	case kZMMHi256:
		return compZMMHi256
	case kHi16ZMM:
		return compHi16ZMM
	case kPKRU:
		return compPKRU
	}
	return compX87
}

// extended reports whether registers of this kind are raw bytes of a
// component beyond the legacy region (kYMMH and the kinds after it).
func (k kind) extended() bool { return k >= kYMMH }

// reg is one row of the register table.
type reg struct {
	name    string
	bits    int
	feature string
	typ     string
	group   string
	dwarf   int
	generic string
	kind    kind
	// off is the byte offset of the value: in the legacy region for
	// x87 and SSE registers, in their component for the extended kinds.
	off int
	// gpr selects the unix.PtraceRegs field for kGPR and kGPR32.
	gpr func(*unix.PtraceRegs) *uint64
}

// The table's rows come in groups, each present in a layout as a whole
// or not at all, in this order: the registers every x86-64 has, then
// those of AVX (component 2), of AVX-512 (components 5 to 7) and of
// protection keys (component 9). A layout numbers its registers in table
// order, leaving absent groups out, so a layout without AVX is a prefix of
// the table and of the g packet.
const (
	firstAVX    = 60  // ymm0h
	firstAVX512 = 76  // xmm16
	firstPKRU   = 148 // pkru
	numRegs     = 149 // every row
)

// amd64Regs is the register file in gdb's amd64 GNU/Linux order, which is
// also g-packet order: with every group present, entry n is register n.
// DWARF numbers follow the x86-64 System V psABI ("DWARF Register Number
// Mapping"). It drives the target description, the g and p encodings and
// lldb's register info.
var amd64Regs = slices.Concat(baseAndAVXRegs[:], avx512Regs(), []reg{
	// PKRU (SDM Vol. 1 §13.5.7): the access rights of the 16 protection
	// keys; the component's other 4 bytes are reserved.
	{"pkru", 32, featurePKeys, "uint32", "", -1, "", kPKRU, 0, nil},
})

// avx512Regs returns the AVX-512 rows (SDM Vol. 1 §13.5.5) in the order
// and with the names of gdb's own org.gnu.gdb.i386.avx512 feature, from
// which gdb composes zmm0-zmm31 and ymm16-ymm31: xmm16-xmm31 and the
// upper halves of ymm16-ymm31 (the low 256 bits of zmm16-zmm31, in the
// Hi16_ZMM component), the opmask registers k0-k7, then the upper halves
// of zmm0-zmm15 (the ZMM_Hi256 component) and of zmm16-zmm31 (Hi16_ZMM
// again). xmm16-xmm31 are in gdb's sse group like xmm0-xmm15; DWARF
// numbers them 67-82 and the opmask registers 118-125.
func avx512Regs() []reg {
	var rows []reg
	for i := range 16 {
		rows = append(rows, reg{"xmm" + strconv.Itoa(16+i), 128, featureAVX512, "vec128", "sse", 67 + i, "", kHi16ZMM, i * zmmSize, nil})
	}
	for i := range 16 {
		rows = append(rows, reg{"ymm" + strconv.Itoa(16+i) + "h", 128, featureAVX512, "uint128", "", -1, "", kHi16ZMM, i*zmmSize + xmmSize, nil})
	}
	for i := range 8 {
		rows = append(rows, reg{"k" + strconv.Itoa(i), 64, featureAVX512, "uint64", "", 118 + i, "", kOpmask, i * opmaskRegSize, nil})
	}
	for i := range 16 {
		rows = append(rows, reg{"zmm" + strconv.Itoa(i) + "h", 256, featureAVX512, "v2ui128", "", -1, "", kZMMHi256, i * zmmHalfSize, nil})
	}
	for i := range 16 {
		rows = append(rows, reg{"zmm" + strconv.Itoa(16+i) + "h", 256, featureAVX512, "v2ui128", "", -1, "", kHi16ZMM, i*zmmSize + zmmHalfSize, nil})
	}
	return rows
}

// baseAndAVXRegs are the rows of the registers every x86-64 has and of
// AVX.
var baseAndAVXRegs = [firstAVX512]reg{
	// name, bits, feature, type, group, dwarf, lldb generic, kind, offset, GPR field
	{"rax", 64, featureCore, "int64", "general", 0, "", kGPR, 0, rax},
	{"rbx", 64, featureCore, "int64", "general", 3, "", kGPR, 0, rbx},
	{"rcx", 64, featureCore, "int64", "general", 2, "arg4", kGPR, 0, rcx},
	{"rdx", 64, featureCore, "int64", "general", 1, "arg3", kGPR, 0, rdx},
	{"rsi", 64, featureCore, "int64", "general", 4, "arg2", kGPR, 0, rsi},
	{"rdi", 64, featureCore, "int64", "general", 5, "arg1", kGPR, 0, rdi},
	{"rbp", 64, featureCore, "data_ptr", "general", 6, "fp", kGPR, 0, rbp},
	{"rsp", 64, featureCore, "data_ptr", "general", 7, "sp", kGPR, 0, rsp},
	{"r8", 64, featureCore, "int64", "general", 8, "arg5", kGPR, 0, r8},
	{"r9", 64, featureCore, "int64", "general", 9, "arg6", kGPR, 0, r9},
	{"r10", 64, featureCore, "int64", "general", 10, "", kGPR, 0, r10},
	{"r11", 64, featureCore, "int64", "general", 11, "", kGPR, 0, r11},
	{"r12", 64, featureCore, "int64", "general", 12, "", kGPR, 0, r12},
	{"r13", 64, featureCore, "int64", "general", 13, "", kGPR, 0, r13},
	{"r14", 64, featureCore, "int64", "general", 14, "", kGPR, 0, r14},
	{"r15", 64, featureCore, "int64", "general", 15, "", kGPR, 0, r15},
	{"rip", 64, featureCore, "code_ptr", "general", 16, "pc", kGPR, 0, rip},
	{"eflags", 32, featureCore, "i386_eflags", "general", 49, "flags", kGPR32, 0, eflags},
	{"cs", 32, featureCore, "int32", "general", 51, "", kGPR32, 0, cs},
	{"ss", 32, featureCore, "int32", "general", 52, "", kGPR32, 0, ss},
	{"ds", 32, featureCore, "int32", "general", 53, "", kGPR32, 0, ds},
	{"es", 32, featureCore, "int32", "general", 50, "", kGPR32, 0, es},
	{"fs", 32, featureCore, "int32", "general", 54, "", kGPR32, 0, fs},
	{"gs", 32, featureCore, "int32", "general", 55, "", kGPR32, 0, gs},
	{"st0", 80, featureCore, "i387_ext", "float", 33, "", kST, fxST0 + 0*fxSTSlot, nil},
	{"st1", 80, featureCore, "i387_ext", "float", 34, "", kST, fxST0 + 1*fxSTSlot, nil},
	{"st2", 80, featureCore, "i387_ext", "float", 35, "", kST, fxST0 + 2*fxSTSlot, nil},
	{"st3", 80, featureCore, "i387_ext", "float", 36, "", kST, fxST0 + 3*fxSTSlot, nil},
	{"st4", 80, featureCore, "i387_ext", "float", 37, "", kST, fxST0 + 4*fxSTSlot, nil},
	{"st5", 80, featureCore, "i387_ext", "float", 38, "", kST, fxST0 + 5*fxSTSlot, nil},
	{"st6", 80, featureCore, "i387_ext", "float", 39, "", kST, fxST0 + 6*fxSTSlot, nil},
	{"st7", 80, featureCore, "i387_ext", "float", 40, "", kST, fxST0 + 7*fxSTSlot, nil},
	{"fctrl", 32, featureCore, "int", "float", 65, "", kX87Word, fxFCW, nil},
	{"fstat", 32, featureCore, "int", "float", 66, "", kX87Word, fxFSW, nil},
	{"ftag", 32, featureCore, "int", "float", -1, "", kFTW, fxFTW, nil},
	// In the 64-bit FXSAVE format there are no selectors: FIP and FDP
	// are 64 bits wide. gdb's own amd64 target reports their upper
	// halves as fiseg and foseg, so a session looks the same natively
	// and remotely, and no bit is lost.
	{"fiseg", 32, featureCore, "int", "float", -1, "", kX87Dword, fxFIP + 4, nil},
	{"fioff", 32, featureCore, "int", "float", -1, "", kX87Dword, fxFIP, nil},
	{"foseg", 32, featureCore, "int", "float", -1, "", kX87Dword, fxFDP + 4, nil},
	{"fooff", 32, featureCore, "int", "float", -1, "", kX87Dword, fxFDP, nil},
	{"fop", 32, featureCore, "int", "float", -1, "", kFOP, fxFOP, nil},
	{"xmm0", 128, featureSSE, "vec128", "sse", 17, "", kXMM, fxXMM0 + 0*xmmSize, nil},
	{"xmm1", 128, featureSSE, "vec128", "sse", 18, "", kXMM, fxXMM0 + 1*xmmSize, nil},
	{"xmm2", 128, featureSSE, "vec128", "sse", 19, "", kXMM, fxXMM0 + 2*xmmSize, nil},
	{"xmm3", 128, featureSSE, "vec128", "sse", 20, "", kXMM, fxXMM0 + 3*xmmSize, nil},
	{"xmm4", 128, featureSSE, "vec128", "sse", 21, "", kXMM, fxXMM0 + 4*xmmSize, nil},
	{"xmm5", 128, featureSSE, "vec128", "sse", 22, "", kXMM, fxXMM0 + 5*xmmSize, nil},
	{"xmm6", 128, featureSSE, "vec128", "sse", 23, "", kXMM, fxXMM0 + 6*xmmSize, nil},
	{"xmm7", 128, featureSSE, "vec128", "sse", 24, "", kXMM, fxXMM0 + 7*xmmSize, nil},
	{"xmm8", 128, featureSSE, "vec128", "sse", 25, "", kXMM, fxXMM0 + 8*xmmSize, nil},
	{"xmm9", 128, featureSSE, "vec128", "sse", 26, "", kXMM, fxXMM0 + 9*xmmSize, nil},
	{"xmm10", 128, featureSSE, "vec128", "sse", 27, "", kXMM, fxXMM0 + 10*xmmSize, nil},
	{"xmm11", 128, featureSSE, "vec128", "sse", 28, "", kXMM, fxXMM0 + 11*xmmSize, nil},
	{"xmm12", 128, featureSSE, "vec128", "sse", 29, "", kXMM, fxXMM0 + 12*xmmSize, nil},
	{"xmm13", 128, featureSSE, "vec128", "sse", 30, "", kXMM, fxXMM0 + 13*xmmSize, nil},
	{"xmm14", 128, featureSSE, "vec128", "sse", 31, "", kXMM, fxXMM0 + 14*xmmSize, nil},
	{"xmm15", 128, featureSSE, "vec128", "sse", 32, "", kXMM, fxXMM0 + 15*xmmSize, nil},
	{"mxcsr", 32, featureSSE, "i386_mxcsr", "vector", 64, "", kMXCSR, fxMXCSR, nil},
	// orig_rax tells the kernel whether and how to restart an
	// interrupted system call; gdb saves and restores it around inferior
	// calls.
	{"orig_rax", 64, featureLinux, "int", "system", -1, "", kGPR, 0, origRax},
	{"fs_base", 64, featureSegments, "int", "system", 58, "", kGPR, 0, fsBase},
	{"gs_base", 64, featureSegments, "int", "system", 59, "", kGPR, 0, gsBase},
	{"ymm0h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 0 * xmmSize, nil},
	{"ymm1h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 1 * xmmSize, nil},
	{"ymm2h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 2 * xmmSize, nil},
	{"ymm3h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 3 * xmmSize, nil},
	{"ymm4h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 4 * xmmSize, nil},
	{"ymm5h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 5 * xmmSize, nil},
	{"ymm6h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 6 * xmmSize, nil},
	{"ymm7h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 7 * xmmSize, nil},
	{"ymm8h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 8 * xmmSize, nil},
	{"ymm9h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 9 * xmmSize, nil},
	{"ymm10h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 10 * xmmSize, nil},
	{"ymm11h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 11 * xmmSize, nil},
	{"ymm12h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 12 * xmmSize, nil},
	{"ymm13h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 13 * xmmSize, nil},
	{"ymm14h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 14 * xmmSize, nil},
	{"ymm15h", 128, featureAVX, "uint128", "", -1, "", kYMMH, 15 * xmmSize, nil},
}

// NeedsXSave reports whether register n lives in the XSAVE area (the x87,
// SSE, AVX, AVX-512 and PKRU registers), so that Set.XSave must be loaded
// before reading or writing it. It is false for the registers
// PTRACE_GETREGS provides and for numbers that name no register. The
// answer holds for every layout: registers from firstAVX on are all in the
// XSAVE area, whichever groups a layout has.
func NeedsXSave(n int) bool {
	return n >= 0 && n < numRegs && amd64Regs[n].kind.component() >= 0
}

// Accessors for the unix.PtraceRegs fields, one per register, so that the
// table can name the field each register comes from.

func rax(r *unix.PtraceRegs) *uint64     { return &r.Rax }
func rbx(r *unix.PtraceRegs) *uint64     { return &r.Rbx }
func rcx(r *unix.PtraceRegs) *uint64     { return &r.Rcx }
func rdx(r *unix.PtraceRegs) *uint64     { return &r.Rdx }
func rsi(r *unix.PtraceRegs) *uint64     { return &r.Rsi }
func rdi(r *unix.PtraceRegs) *uint64     { return &r.Rdi }
func rbp(r *unix.PtraceRegs) *uint64     { return &r.Rbp }
func rsp(r *unix.PtraceRegs) *uint64     { return &r.Rsp }
func r8(r *unix.PtraceRegs) *uint64      { return &r.R8 }
func r9(r *unix.PtraceRegs) *uint64      { return &r.R9 }
func r10(r *unix.PtraceRegs) *uint64     { return &r.R10 }
func r11(r *unix.PtraceRegs) *uint64     { return &r.R11 }
func r12(r *unix.PtraceRegs) *uint64     { return &r.R12 }
func r13(r *unix.PtraceRegs) *uint64     { return &r.R13 }
func r14(r *unix.PtraceRegs) *uint64     { return &r.R14 }
func r15(r *unix.PtraceRegs) *uint64     { return &r.R15 }
func rip(r *unix.PtraceRegs) *uint64     { return &r.Rip }
func eflags(r *unix.PtraceRegs) *uint64  { return &r.Eflags }
func cs(r *unix.PtraceRegs) *uint64      { return &r.Cs }
func ss(r *unix.PtraceRegs) *uint64      { return &r.Ss }
func ds(r *unix.PtraceRegs) *uint64      { return &r.Ds }
func es(r *unix.PtraceRegs) *uint64      { return &r.Es }
func fs(r *unix.PtraceRegs) *uint64      { return &r.Fs }
func gs(r *unix.PtraceRegs) *uint64      { return &r.Gs }
func origRax(r *unix.PtraceRegs) *uint64 { return &r.Orig_rax }
func fsBase(r *unix.PtraceRegs) *uint64  { return &r.Fs_base }
func gsBase(r *unix.PtraceRegs) *uint64  { return &r.Gs_base }
