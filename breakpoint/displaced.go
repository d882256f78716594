package breakpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"golang.org/x/arch/x86/x86asm"
)

// Displaced stepping: to move a thread past a breakpoint while the int3
// stays in place for every other thread, execute a copy of the original
// instruction at a scratch address in the process, then move on in the
// original code. This is what gdb calls displaced stepping.
//
// The copy comes back by itself: it is followed by an absolute jump to
// the instruction after the original (and, for a conditional branch, by
// another to its target), so that a thread can run through it at full
// speed, one stop for the breakpoint and none for the step (Free).
// Direct jumps and calls are not copied but emulated: an absolute jump
// to the target, after a push of the original return address for a call.
// Only an indirect call is copied bare: it pushes an address in the
// scratch page, which the caller must fix after a single step
// (ReturnAddress).
//
// The caller's sequence, for a thread stopped at a breakpoint at pc:
//
//	d, err := Displace(orig, pc, scratch) // orig: the original bytes at pc
//	if err != nil { stop the world: lift the int3, step in place, reinsert }
//	write d.Code at scratch; set the thread's RIP to scratch
//	if d.Free { let it run } else { single-step; set RIP to d.PC(rip) }
//	after a single step of a call: if pushed, want, ok := d.ReturnAddress(); ok && word at RSP == pushed { write want there }
//
// A thread that stops inside the scratch code, before or after the
// instruction ran (a signal, an interrupt, a single step), has its PC
// mapped back by d.PC: to pc when the instruction has not run (a fault,
// a rep-prefixed string instruction not done), to where the instruction
// took it otherwise.
//
// The scratch address must be executable and not written by the program
// (a page procgdb maps in the process), SlotSize bytes per instruction.

// SlotSize is room enough for any displaced instruction: a copy of at
// most 15 bytes and two jumps back of 14.
const SlotSize = 64

// ErrNotDisplaceable is the cause of Displace's refusals.
var ErrNotDisplaceable = errors.New("cannot step out of line")

// Displaced is an instruction prepared to run at a scratch address.
type Displaced struct {
	// Code is what to write at the scratch address: the instruction, its
	// RIP-relative displacement or branch displacement rewritten, and the
	// jumps back; or the emulation of a direct jump or call.
	Code []byte
	// Len is the length of the original instruction.
	Len int
	// Free is set when Code leaves the scratch page by itself, so that a
	// thread may run it rather than single-step it.
	Free bool

	pc, scratch uint64
	// moves maps PCs in the scratch code to the original code (before
	// the instruction, after its fall-through, after a taken branch,
	// after an emulated call's push); other PCs are final.
	moves []move
	call  bool // a bare indirect call: the return address it pushes must be fixed
}

type move struct{ from, to uint64 }

// The encodings of the emulations and jumps back: jmp *0(%rip), with the
// 8-byte destination right after it, and push *disp32(%rip).
var (
	jmpAbs  = []byte{0xff, 0x25, 0, 0, 0, 0}
	pushRel = []byte{0xff, 0x35}
)

// jumpBackSize is the size of one absolute jump with its destination.
const jumpBackSize = 6 + 8

// Displace prepares the instruction at the start of code (the original
// bytes at pc, breakpoints shadowed; 15 bytes suffice) to run at scratch.
// It refuses, with ErrNotDisplaceable, what cannot run there as it would
// at pc:
//   - bytes that do not decode with certainty;
//   - a RIP-relative operand whose data is beyond ±2 GiB of scratch;
//   - system calls: a thread or process created by clone, fork or vfork
//     would start in the scratch page, and rt_sigreturn jumps anywhere;
//   - int3, int1, ud2, hlt, far transfers and xbegin (whose abort target
//     would be in the scratch page).
//
// Conditional branches run with their displacement rewritten to land on
// the second jump back, so that the CPU evaluates the condition (and
// loop's count).
func Displace(code []byte, pc, scratch uint64) (*Displaced, error) {
	in := decodeInsn(code, pc)
	if reason := notDisplaceable(in); reason != "" {
		return nil, fmt.Errorf("instruction at %#x (% x): %s: %w", pc, code[:min(len(code), max(in.len, 1))], reason, ErrNotDisplaceable)
	}
	d := &Displaced{Len: in.len, Free: true, pc: pc, scratch: scratch}
	next := pc + uint64(in.len)
	d.moves = []move{{scratch, pc}} // not executed: faulted, or rep not done
	switch in.flow {
	case flowJump:
		d.Code = appendJumpBack(nil, in.target)
		return d, nil
	case flowCall:
		// push *14(%rip) (the return address, after the jump's
		// destination), then the jump.
		d.Code = binary.LittleEndian.AppendUint32(append([]byte(nil), pushRel...), jumpBackSize)
		d.Code = binary.LittleEndian.AppendUint64(appendJumpBack(d.Code, in.target), next)
		d.moves = append(d.moves, move{scratch + 6, in.target})
		return d, nil
	}
	d.Code = append([]byte(nil), code[:in.len]...)
	end := scratch + uint64(in.len)
	switch in.flow {
	case flowNext:
		d.Code = appendJumpBack(d.Code, next)
		d.moves = append(d.moves, move{end, next})
	case flowBranch:
		setRel(d.Code[in.relOff:], in.relSize, jumpBackSize)
		d.Code = appendJumpBack(appendJumpBack(d.Code, next), in.target)
		d.moves = append(d.moves, move{end, next}, move{end + jumpBackSize, in.target})
	case flowCallIndirect:
		d.call, d.Free = true, false
	}
	if in.ripOff != 0 {
		data := ripData(code, in, pc)
		moved := int64(data - end)
		if moved < math.MinInt32 || moved > math.MaxInt32 {
			return nil, fmt.Errorf("instruction at %#x: RIP-relative data at %#x is beyond ±2 GiB of %#x: %w",
				pc, data, scratch, ErrNotDisplaceable)
		}
		binary.LittleEndian.PutUint32(d.Code[in.ripOff:], uint32(int32(moved)))
	}
	if err := d.check(code, in); err != nil {
		return nil, fmt.Errorf("instruction at %#x: %w: %w", pc, err, ErrNotDisplaceable)
	}
	return d, nil
}

// appendJumpBack appends an absolute jump to dest.
func appendJumpBack(b []byte, dest uint64) []byte {
	return binary.LittleEndian.AppendUint64(append(b, jmpAbs...), dest)
}

// notDisplaceable says why in cannot run out of line, or "".
func notDisplaceable(in insn) string {
	switch {
	case in.flow == flowUnknown:
		return "not decoded with certainty"
	case in.ripUnsure:
		return "memory operand not understood"
	case in.flow == flowSyscall:
		return "a system call (clone, fork or rt_sigreturn would leave the thread or a child in the scratch page)"
	case in.flow == flowTrap:
		return "a trap"
	case in.flow == flowFar:
		return "a far transfer"
	case in.op == x86asm.XBEGIN:
		return "a transaction (its abort target would move)"
	}
	return ""
}

// check decodes the rewritten copy at the scratch address and verifies
// that it is the same instruction as the original in code: same opcode,
// length and flow, its RIP-relative operand addressing the same data,
// its branch landing where the moves expect.
func (d *Displaced) check(code []byte, orig insn) error {
	in := decodeInsn(d.Code[:d.Len], d.scratch)
	end := d.scratch + uint64(in.len)
	switch {
	case in.op != orig.op || in.len != orig.len || in.flow != orig.flow || in.ripOff != orig.ripOff || in.ripUnsure:
		return errors.New("the copy decodes as another instruction")
	case in.ripOff != 0 && ripData(d.Code, in, d.scratch) != ripData(code, orig, d.pc):
		return errors.New("the copy's RIP-relative operand addresses other data")
	case in.flow == flowBranch && in.target != end+jumpBackSize:
		return errors.New("the copy's branch lands elsewhere")
	}
	return nil
}

// ripData is the address the RIP-relative operand of in, at pc, refers
// to.
func ripData(code []byte, in insn, pc uint64) uint64 {
	disp := int32(binary.LittleEndian.Uint32(code[in.ripOff:]))
	return pc + uint64(in.len) + uint64(int64(disp))
}

// setRel writes a relative field of size bytes.
func setRel(b []byte, size int, v int32) {
	switch size {
	case 1:
		b[0] = byte(int8(v))
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(int16(v)))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	}
}

// PC maps the thread's RIP, stopped in the scratch code or after a single
// step of it, to where it is in the original code.
func (d *Displaced) PC(rip uint64) uint64 {
	for _, m := range d.moves {
		if rip == m.from {
			return m.to
		}
	}
	return rip
}

// ReturnAddress says, for a call, the return address the step pushed at
// the thread's new RSP and the one to write in its place (the
// instruction after the original call); ok is false for other
// instructions.
func (d *Displaced) ReturnAddress() (pushed, want uint64, ok bool) {
	if !d.call {
		return 0, 0, false
	}
	n := uint64(d.Len)
	return d.scratch + n, d.pc + n, true
}
