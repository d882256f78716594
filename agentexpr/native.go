package agentexpr

import (
	"encoding/binary"
	"fmt"
)

// The contract of AppendNative's code with the code that runs it.
const (
	// NativeRegisters is how many 8-byte slots the register block holds:
	// gdb's registers 0 (rax) to 17 (eflags), the ones reg may name.
	NativeRegisters = 18
	// NativeMaxDepth is the deepest stack, in values, a program compiled
	// to native code may build; deeper ones are refused.
	NativeMaxDepth = 64
	// NativeStackBytes bounds what the code uses of the machine stack
	// below its entry RSP: the evaluation stack and nothing else.
	NativeStackBytes = 8 * NativeMaxDepth
)

// AppendNative appends to dst x86-64 machine code that evaluates conds, a
// breakpoint's conditions, inside the debugged process, and returns the
// extended slice. The code is for a pad that jumps to it with the
// thread's registers saved:
//
//   - On entry RBX points to the register block: NativeRegisters
//     little-endian 8-byte slots, slot i holding gdb's register i as reg
//     would read it (eflags zero-extended).
//   - The code ends by falling through past its last byte with RAX = 1
//     if the breakpoint must stop, RAX = 0 if not. It stops when a
//     condition is non-zero or fails (division by zero, an empty stack
//     at end, its budget spent), trying conds in order and no further
//     than the first that stops. An empty conds stops unconditionally,
//     as a breakpoint without condition does.
//   - It preserves RBX and leaves RSP as it found it; it clobbers the
//     other general registers and the flags. It pushes at most
//     NativeStackBytes below the entry RSP and writes no other memory.
//   - It is position independent: it jumps only within itself.
//   - ref8 to ref64 are plain loads: an unreadable address faults
//     (SIGSEGV) in the process, and the tracer reports the stop.
//   - Instead of MaxSteps instructions, each condition may take
//     MaxSteps-1 backward jumps (a run Eval finishes takes no more); the
//     next one stops.
//
// Values agree bit for bit with Eval's. The code takes at most 18
// bytes, plus 6 per condition and 40 per instruction. A program it
// cannot run (one with getv, setv, printf or reg beyond NativeRegisters,
// even unreachable, or a stack deeper than NativeMaxDepth) is refused
// with an error wrapping ErrUnsupported, and dst returned as it was;
// the caller then evaluates conds with Eval instead.
func AppendNative(dst []byte, conds []*Program) ([]byte, error) {
	if len(conds) == 0 {
		return append(dst, 0xb8, 0x01, 0x00, 0x00, 0x00), nil // mov eax, 1
	}
	a := &assembler{b: dst}
	stop, done := a.newLabel(), a.newLabel()
	a.emit(0x49, 0x89, 0xe4) // mov r12, rsp: the stack to restore on every exit
	for i, p := range conds {
		if p == nil {
			return dst, fmt.Errorf("condition %d: no program: %w", i, ErrInvalid)
		}
		next := a.newLabel()
		if err := a.program(p, stop, next); err != nil {
			return dst, fmt.Errorf("condition %d: %w", i, err)
		}
		a.bind(next)
	}
	a.emit(0x31, 0xc0) // xor eax, eax: no condition holds
	a.jmp(done)
	a.bind(stop)
	a.emit(0x4c, 0x89, 0xe4)             // mov rsp, r12
	a.emit(0xb8, 0x01, 0x00, 0x00, 0x00) // mov eax, 1
	a.bind(done)
	a.resolve()
	return a.b, nil
}

// program emits p: it jumps to stop if p stops the breakpoint and to
// next if p evaluates to zero. The evaluation stack is the machine
// stack, its top at [rsp]. Besides RBX (the block), the code keeps R12,
// the entry RSP to restore on every exit, and R13, the count of
// backward jumps left; RAX, RCX and RDX are scratch within one
// instruction.
func (a *assembler) program(p *Program, stop, next label) error {
	if p.maxDepth > NativeMaxDepth {
		return fmt.Errorf("stack depth %d, deeper than %d: %w", p.maxDepth, NativeMaxDepth, ErrUnsupported)
	}
	labels := make([]label, len(p.code))
	for i := range labels {
		labels[i] = a.newLabel()
	}
	a.emit(0x41, 0xbd) // mov r13d, MaxSteps
	a.b = binary.LittleEndian.AppendUint32(a.b, MaxSteps)
	for i := range p.code {
		in := &p.code[i]
		a.bind(labels[i])
		if err := a.instr(in, i, labels, stop, next); err != nil {
			return err
		}
	}
	return nil
}

// Jump conditions, the low nibble of jcc's opcode.
const (
	ccE  = 0x4 // equal, zero
	ccNE = 0x5 // not equal, not zero
)

// instr emits one instruction, the i-th of its program whose
// instructions start at labels.
func (a *assembler) instr(in *instr, i int, labels []label, stop, next label) error {
	switch in.op {
	case opAdd, opSub, opBitAnd, opBitOr, opBitXor:
		// pop rcx; OP [rsp], rcx
		a.emit(0x59, 0x48, aluOpcode[in.op], 0x0c, 0x24)
	case opMul:
		a.emit(0x59, 0x58)             // pop rcx; pop rax
		a.emit(0x48, 0x0f, 0xaf, 0xc1) // imul rax, rcx
		a.emit(0x50)                   // push rax
	case opDivSigned, opDivUnsigned, opRemSigned, opRemUnsigned:
		a.divide(in.op, stop)
	case opLsh, opRshUnsigned:
		// Go's shifts by 64 or more give 0; x86 takes the count mod 64.
		a.emit(0x59, 0x58) // pop rcx; pop rax
		if in.op == opLsh {
			a.emit(0x48, 0xd3, 0xe0) // shl rax, cl
		} else {
			a.emit(0x48, 0xd3, 0xe8) // shr rax, cl
		}
		a.emit(0x31, 0xd2)             // xor edx, edx
		a.emit(0x48, 0x83, 0xf9, 0x3f) // cmp rcx, 63
		a.emit(0x48, 0x0f, 0x47, 0xc2) // cmova rax, rdx
		a.emit(0x50)                   // push rax
	case opRshSigned:
		// A count of 64 or more fills with the sign, as a count of 63.
		a.emit(0x59, 0x58)                   // pop rcx; pop rax
		a.emit(0xba, 0x3f, 0x00, 0x00, 0x00) // mov edx, 63
		a.emit(0x48, 0x83, 0xf9, 0x3f)       // cmp rcx, 63
		a.emit(0x48, 0x0f, 0x47, 0xca)       // cmova rcx, rdx
		a.emit(0x48, 0xd3, 0xf8)             // sar rax, cl
		a.emit(0x50)                         // push rax
	case opLogNot:
		a.emit(0x58, 0x31, 0xc9)       // pop rax; xor ecx, ecx
		a.emit(0x48, 0x85, 0xc0)       // test rax, rax
		a.emit(0x0f, 0x94, 0xc1, 0x51) // sete cl; push rcx
	case opBitNot:
		a.emit(0x48, 0xf7, 0x14, 0x24) // not qword [rsp]
	case opEqual, opLessSigned, opLessUnsigned:
		a.emit(0x59, 0x58, 0x31, 0xd2)               // pop rcx; pop rax; xor edx, edx
		a.emit(0x48, 0x39, 0xc8)                     // cmp rax, rcx
		a.emit(0x0f, setccOpcode[in.op], 0xc2, 0x52) // setCC dl; push rdx
	case opExt:
		switch {
		case in.arg >= 64:
			// Nothing to extend.
		case in.arg == 0:
			a.emit(0x48, 0xc7, 0x04, 0x24, 0, 0, 0, 0) // mov qword [rsp], 0
		default:
			shift := byte(64 - in.arg)
			a.emit(0x48, 0xc1, 0x24, 0x24, shift) // shl qword [rsp], shift
			a.emit(0x48, 0xc1, 0x3c, 0x24, shift) // sar qword [rsp], shift
		}
	case opZeroExt:
		if in.arg < 64 {
			a.emit(0x58, 0x48, 0xb9) // pop rax; mov rcx, mask
			a.b = binary.LittleEndian.AppendUint64(a.b, 1<<in.arg-1)
			a.emit(0x48, 0x21, 0xc8, 0x50) // and rax, rcx; push rax
		}
	case opRef8:
		a.emit(0x58, 0x0f, 0xb6, 0x00, 0x50) // pop rax; movzx eax, byte [rax]; push rax
	case opRef16:
		a.emit(0x58, 0x0f, 0xb7, 0x00, 0x50) // pop rax; movzx eax, word [rax]; push rax
	case opRef32:
		a.emit(0x58, 0x8b, 0x00, 0x50) // pop rax; mov eax, [rax]; push rax
	case opRef64:
		a.emit(0x58, 0x48, 0x8b, 0x00, 0x50) // pop rax; mov rax, [rax]; push rax
	case opIfGoto:
		a.emit(0x58, 0x48, 0x85, 0xc0) // pop rax; test rax, rax
		if in.jump > i {
			a.jcc(ccNE, labels[in.jump])
			break
		}
		fall := a.newLabel()
		a.jcc(ccE, fall)
		a.backward(labels[in.jump], stop)
		a.bind(fall)
	case opGoto:
		if in.jump > i {
			a.jmp(labels[in.jump])
		} else {
			a.backward(labels[in.jump], stop)
		}
	case opConst8, opConst16, opConst32, opConst64:
		a.push(in.arg)
	case opReg:
		if in.arg >= NativeRegisters {
			return in.errorf(fmt.Errorf("register %d not in the block: %w", in.arg, ErrUnsupported))
		}
		a.emit(0xff, 0xb3) // push qword [rbx+disp32]
		a.b = binary.LittleEndian.AppendUint32(a.b, uint32(8*in.arg))
	case opEnd:
		a.emit(0x4c, 0x39, 0xe4) // cmp rsp, r12: an empty stack fails
		a.jcc(ccE, stop)
		a.emit(0x58, 0x4c, 0x89, 0xe4) // pop rax; mov rsp, r12
		a.emit(0x48, 0x85, 0xc0)       // test rax, rax
		a.jcc(ccNE, stop)
		a.jmp(next)
	case opDup, opPick:
		a.emit(0xff, 0xb4, 0x24) // push qword [rsp+disp32]
		a.b = binary.LittleEndian.AppendUint32(a.b, uint32(8*pickDepth(in)))
	case opPop, opTrace, opTracenz:
		a.emit(0x48, 0x83, 0xc4, byte(-8*effect(in.op, in.arg))) // add rsp, 8*popped
	case opSwap:
		a.emit(0x58, 0x59, 0x50, 0x51) // pop rax; pop rcx; push rax; push rcx
	case opRot:
		// a b c => c a b
		a.emit(0x59, 0x5a, 0x58) // pop rcx (c); pop rdx (b); pop rax (a)
		a.emit(0x51, 0x50, 0x52) // push rcx; push rax; push rdx
	case opTraceQuick, opTrace16, opTracev:
		// Nothing recorded, the stack unchanged.
	default:
		return in.errorf(fmt.Errorf("not compiled to native code: %w", ErrUnsupported))
	}
	return nil
}

// pickDepth is how far below the top dup and pick copy from.
func pickDepth(in *instr) uint64 {
	if in.op == opDup {
		return 0
	}
	return in.arg
}

// aluOpcode is the "OP r/m64, r64" opcode of the binary operators done in
// place on the top of the stack.
var aluOpcode = map[byte]byte{opAdd: 0x01, opSub: 0x29, opBitAnd: 0x21, opBitOr: 0x09, opBitXor: 0x31}

// setccOpcode is the second byte of the setCC that yields a comparison.
var setccOpcode = map[byte]byte{opEqual: 0x94, opLessSigned: 0x9c, opLessUnsigned: 0x92}

// divide emits a division or remainder of the two values on top of the
// stack. A zero divisor stops. idiv faults on MinInt64 / -1, which Go
// defines (as MinInt64, remainder 0), so a divisor of -1 negates instead.
func (a *assembler) divide(op byte, stop label) {
	a.emit(0x59, 0x58)       // pop rcx; pop rax
	a.emit(0x48, 0x85, 0xc9) // test rcx, rcx
	a.jcc(ccE, stop)
	signed := op == opDivSigned || op == opRemSigned
	rem := op == opRemSigned || op == opRemUnsigned
	done := a.newLabel()
	if signed {
		divide := a.newLabel()
		a.emit(0x48, 0x83, 0xf9, 0xff) // cmp rcx, -1
		a.jcc(ccNE, divide)
		if rem {
			a.emit(0x31, 0xc0) // xor eax, eax
		} else {
			a.emit(0x48, 0xf7, 0xd8) // neg rax
		}
		a.jmp(done)
		a.bind(divide)
		a.emit(0x48, 0x99, 0x48, 0xf7, 0xf9) // cqo; idiv rcx
	} else {
		a.emit(0x31, 0xd2, 0x48, 0xf7, 0xf1) // xor edx, edx; div rcx
	}
	if rem {
		a.emit(0x48, 0x89, 0xd0) // mov rax, rdx
	}
	a.bind(done)
	a.emit(0x50) // push rax
}

// backward emits a jump to an earlier instruction: it spends one of the
// condition's MaxSteps, and stops once they are gone.
func (a *assembler) backward(to, stop label) {
	a.emit(0x49, 0xff, 0xcd) // dec r13
	a.jcc(ccE, stop)
	a.jmp(to)
}

// push emits a push of the constant v.
func (a *assembler) push(v uint64) {
	if int64(v) == int64(int32(v)) {
		a.emit(0x68) // push imm32, sign-extended
		a.b = binary.LittleEndian.AppendUint32(a.b, uint32(v))
		return
	}
	a.emit(0x48, 0xb8) // mov rax, imm64
	a.b = binary.LittleEndian.AppendUint64(a.b, v)
	a.emit(0x50) // push rax
}

// assembler appends machine code to b. Jumps go to labels, all rel32,
// patched by resolve once every label is bound.
type assembler struct {
	b      []byte
	labels []int // label -> offset in b; -1 until bound
	fixups []fixup
}

// label names a place in the code.
type label int

// fixup is a rel32 field at b[at:at+4] to point at a label.
type fixup struct {
	at int
	to label
}

func (a *assembler) emit(code ...byte) { a.b = append(a.b, code...) }

func (a *assembler) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *assembler) bind(l label) { a.labels[l] = len(a.b) }

// jmp emits jmp rel32 to l.
func (a *assembler) jmp(l label) {
	a.emit(0xe9)
	a.rel32(l)
}

// jcc emits the conditional jump (rel32) to l.
func (a *assembler) jcc(cc byte, l label) {
	a.emit(0x0f, 0x80|cc)
	a.rel32(l)
}

func (a *assembler) rel32(l label) {
	a.fixups = append(a.fixups, fixup{at: len(a.b), to: l})
	a.emit(0, 0, 0, 0)
}

// resolve fills every jump's displacement, relative to the end of the
// jump, so that the code runs wherever it is copied.
func (a *assembler) resolve() {
	for _, f := range a.fixups {
		rel := int32(a.labels[f.to] - (f.at + 4))
		binary.LittleEndian.PutUint32(a.b[f.at:], uint32(rel))
	}
}
