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
// instruction at a scratch address in the process, single-step it there,
// then move the thread's PC (and, for a call, the return address it
// pushed) back into the original code. This is what gdb calls displaced
// stepping.
//
// The caller's sequence, for a thread stopped at a breakpoint at pc:
//
//	d, err := Displace(orig, pc, scratch) // orig: the original bytes at pc
//	if err != nil { stop the world: lift the int3, step in place, reinsert }
//	write d.Code at scratch; set the thread's RIP to scratch; single-step
//	set RIP to d.PC(rip)
//	if pushed, want, ok := d.ReturnAddress(); ok && word at RSP == pushed { write want there }
//
// A step that faults (a signal instead of the trap) leaves RIP at
// scratch, which d.PC maps to pc: the signal is then reported at the
// original instruction. So does a rep-prefixed string instruction, which
// traps after each iteration: it is displaced again from pc.
//
// The scratch address must be executable and not written by the program
// (a page procgdb maps in the process), one per thread stepping at once.

// ErrNotDisplaceable is the cause of Displace's refusals.
var ErrNotDisplaceable = errors.New("cannot step out of line")

// Displaced is an instruction prepared to run at a scratch address.
type Displaced struct {
	// Code is what to write at the scratch address: the instruction, its
	// RIP-relative displacement or branch displacement rewritten. It is
	// as long as the original and decodes to the same opcode.
	Code []byte

	pc, scratch uint64
	// moves maps PCs at the scratch page after the step to the original
	// code (after the fall-through, a taken branch, a direct jump or
	// call); other PCs are final (ret, indirect jumps and calls).
	moves []move
	call  bool // a call: the return address it pushes must be fixed
}

type move struct{ from, to uint64 }

// Displace prepares the instruction at the start of code (the original
// bytes at pc, breakpoints shadowed; 15 bytes suffice) to be single-
// stepped at scratch. It refuses, with ErrNotDisplaceable, what cannot
// run there as it would at pc:
//   - bytes that do not decode with certainty;
//   - a RIP-relative operand whose data is beyond ±2 GiB of scratch;
//   - system calls: a thread or process created by clone, fork or vfork
//     would start in the scratch page, and rt_sigreturn jumps anywhere;
//   - int3, int1, ud2, hlt, far transfers and xbegin (whose abort target
//     would be in the scratch page).
//
// Relative jumps, branches and calls run with a displacement rewritten
// to land in the scratch page, at one place when taken and another when
// not, so that the CPU evaluates the condition (and loop's count).
func Displace(code []byte, pc, scratch uint64) (*Displaced, error) {
	in := decodeInsn(code, pc)
	if reason := notDisplaceable(in); reason != "" {
		return nil, fmt.Errorf("instruction at %#x (% x): %s: %w", pc, code[:min(len(code), max(in.len, 1))], reason, ErrNotDisplaceable)
	}
	d := &Displaced{Code: append([]byte(nil), code[:in.len]...), pc: pc, scratch: scratch}
	end, next := scratch+uint64(in.len), pc+uint64(in.len)
	d.moves = []move{{scratch, pc}} // not executed: faulted, or rep not done
	switch in.flow {
	case flowNext:
		d.moves = append(d.moves, move{end, next})
	case flowBranch:
		// Taken lands one byte past the copy, not taken right after it.
		setRel(d.Code[in.relOff:], in.relSize, 1)
		d.moves = append(d.moves, move{end, next}, move{end + 1, in.target})
	case flowJump, flowCall:
		setRel(d.Code[in.relOff:], in.relSize, 0)
		d.moves = append(d.moves, move{end, in.target})
	}
	d.call = in.flow == flowCall || in.flow == flowCallIndirect
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
	in := decodeInsn(d.Code, d.scratch)
	end := d.scratch + uint64(in.len)
	switch {
	case in.op != orig.op || in.len != orig.len || in.flow != orig.flow || in.ripOff != orig.ripOff || in.ripUnsure:
		return errors.New("the copy decodes as another instruction")
	case in.ripOff != 0 && ripData(d.Code, in, d.scratch) != ripData(code, orig, d.pc):
		return errors.New("the copy's RIP-relative operand addresses other data")
	case in.flow == flowBranch && in.target != end+1,
		(in.flow == flowJump || in.flow == flowCall) && in.target != end:
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

// PC maps the thread's RIP after the single step at the scratch address
// to where it is in the original code.
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
	n := uint64(len(d.Code))
	return d.scratch + n, d.pc + n, true
}
