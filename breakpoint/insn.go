package breakpoint

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"
)

// Instruction analysis for stepping: how an x86-64 instruction passes
// control on, and where its relative fields are. x86asm decodes; this
// file corrects what it gets wrong on the code compilers emit (found by
// comparing it with objdump over libc, libstdc++, libm, libcrypto, gdb
// and go: TestDecodeMatchesObjdump) and marks as unknown what it cannot
// be trusted with, so that callers single-step those.

// flow is how an instruction passes control on.
type flow uint8

const (
	flowNext         flow = iota // to the next instruction
	flowJump                     // jmp rel: to target
	flowBranch                   // jcc, loop*, jrcxz, jecxz, xbegin: to target or the next
	flowCall                     // call rel: to target, pushing the next
	flowCallIndirect             // call through a register or memory
	flowReturn                   // ret
	flowJumpIndirect             // jmp through a register or memory
	flowFar                      // far call, jump or return, iret, sysret, sysexit
	flowSyscall                  // syscall, sysenter, int n, int1
	flowTrap                     // int3, ud0, ud1, ud2, hlt: a signal
	flowUnknown                  // undecodable, or not decoded with certainty
)

// insn is a decoded instruction.
type insn struct {
	op     x86asm.Op
	len    int
	flow   flow
	target uint64 // flowJump, flowBranch, flowCall
	// relOff and relSize locate a jump's or call's displacement.
	relOff, relSize int
	// ripOff is the offset of the disp32 of a RIP-relative memory
	// operand, 0 if there is none; ripUnsure marks a memory operand
	// whose addressing could not be established.
	ripOff    int
	ripUnsure bool
}

// endbr64 and endbr32 (f3 0f 1e fa/fb), at the entry of every function
// built with CET: x86asm returns a lone "rep" prefix for them.
var endbr = [][]byte{{0xf3, 0x0f, 0x1e, 0xfa}, {0xf3, 0x0f, 0x1e, 0xfb}}

// decodeInsn decodes the instruction at the start of code, which is at
// address pc.
func decodeInsn(code []byte, pc uint64) insn {
	for _, e := range endbr {
		if len(code) >= len(e) && string(code[:len(e)]) == string(e) {
			return insn{op: x86asm.NOP, len: len(e), flow: flowNext}
		}
	}
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Op == 0 || inst.Len <= 0 || inst.Len > len(code) {
		// Op 0 without an error is a prefix x86asm could not attach to
		// an instruction (adcx, adox, ...): its length is wrong.
		return insn{len: 1, flow: flowUnknown}
	}
	in := insn{op: inst.Op, len: inst.Len, flow: classify(inst)}
	if inst.Op == x86asm.VZEROUPPER || inst.Op == x86asm.VZEROALL {
		// x86asm reads a ModRM these have not, and takes in the next
		// byte or more.
		if in.len = vzeroLen(code); in.len == 0 {
			return unknownInsn
		}
	}
	switch in.flow {
	case flowJump, flowBranch, flowCall:
		rel, ok := inst.Args[0].(x86asm.Rel)
		if !ok || inst.PCRel == 0 {
			in.flow = flowUnknown
			break
		}
		in.target = pc + uint64(in.len) + uint64(int64(rel))
		in.relOff, in.relSize = inst.PCRelOff, inst.PCRel
	}
	if in.flow != flowUnknown && inst.DataSize == 16 && in.flow != flowNext && in.flow != flowSyscall && in.flow != flowTrap {
		// A 66 prefix on a near branch, call or return: Intel ignores it
		// in 64-bit mode, AMD truncates the instruction pointer to 16
		// bits (and reads a rel16). Nothing compiled emits it.
		in.flow = flowUnknown
	}
	if in.flow == flowUnknown {
		return unknownInsn
	}
	in.ripOff, in.ripUnsure = ripRelative(code, inst)
	return in
}

// unknownInsn is what decodeInsn returns for what it cannot decode with
// certainty; its length is not known either.
var unknownInsn = insn{len: 1, flow: flowUnknown}

// classify is an instruction's flow by its opcode.
func classify(inst x86asm.Inst) flow {
	_, rel := inst.Args[0].(x86asm.Rel)
	switch inst.Op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO,
		x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE, x86asm.XBEGIN:
		return flowBranch
	case x86asm.JMP:
		if rel {
			return flowJump
		}
		return flowJumpIndirect
	case x86asm.CALL:
		if rel {
			return flowCall
		}
		return flowCallIndirect
	case x86asm.RET:
		return flowReturn
	case x86asm.LJMP, x86asm.LCALL, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ,
		x86asm.SYSRET, x86asm.SYSEXIT:
		return flowFar
	case x86asm.INT:
		if imm, ok := inst.Args[0].(x86asm.Imm); ok && imm == 3 {
			return flowTrap
		}
		return flowSyscall
	case x86asm.SYSCALL, x86asm.SYSENTER, x86asm.INTO, x86asm.ICEBP:
		return flowSyscall
	case x86asm.HLT, x86asm.UD0, x86asm.UD1, x86asm.UD2:
		return flowTrap
	}
	for _, a := range inst.Args {
		if _, ok := a.(x86asm.Rel); ok {
			return flowUnknown // a relative operand on an opcode not listed
		}
	}
	return flowNext
}

// legacyPrefix reports whether b is a legacy or REX prefix.
func legacyPrefix(b byte) bool {
	switch b {
	case 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67:
		return true
	}
	return b&0xf0 == 0x40
}

// vexModRM returns the offset of the ModRM byte of a VEX- or
// EVEX-encoded instruction, or -1 if code does not start with one.
func vexModRM(code []byte) int {
	i := 0
	for i < len(code) && legacyPrefix(code[i]) {
		i++
	}
	if i == len(code) {
		return -1
	}
	switch code[i] {
	case 0xc5: // c5 P0 opcode
		i += 3
	case 0xc4: // c4 P0 P1 opcode
		i += 4
	case 0x62: // 62 P0 P1 P2 opcode
		i += 5
	default:
		return -1
	}
	if i >= len(code) {
		return -1
	}
	return i
}

// vzeroLen is the length of vzeroupper or vzeroall: its VEX prefix and
// opcode 77; 0 if code is not that.
func vzeroLen(code []byte) int {
	m := vexModRM(code) // one past the opcode: they have no ModRM
	if m < 1 || code[m-1] != 0x77 {
		return 0
	}
	return m
}

// ripRelative finds a RIP-relative memory operand: the offset of its
// disp32, or unsure for a memory operand whose addressing is unclear.
func ripRelative(code []byte, inst x86asm.Inst) (off int, unsure bool) {
	var mem *x86asm.Mem
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok {
			mem = &m
		}
	}
	switch {
	case mem == nil:
		return 0, false
	case mem.Base == x86asm.RIP && inst.PCRel == 4:
		return inst.PCRelOff, false
	case mem.Base == x86asm.RIP || mem.Base == x86asm.EIP:
		return 0, true // EIP-relative (a 67 prefix) or a field x86asm did not place
	}
	// x86asm shows VEX and EVEX RIP-relative operands as absolute ones:
	// read the ModRM (mod 00, r/m 101 is RIP + disp32 in 64-bit mode).
	m := vexModRM(code)
	if m < 0 {
		return 0, false
	}
	if mod, rm := code[m]>>6, code[m]&7; mod != 0 || rm != 5 {
		return 0, false
	}
	if m+5 > inst.Len || int64(int32(binary.LittleEndian.Uint32(code[m+1:]))) != mem.Disp ||
		mem.Base != 0 || mem.Index != 0 {
		return 0, true
	}
	return m + 1, false
}
