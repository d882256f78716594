package breakpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A pad runs a breakpoint's conditions inside the process: the
// breakpoint's instruction gives way to a jump to the pad (Jump, written
// with Table.Patch), which saves the thread's registers in a block on its
// stack, runs the conditions compiled to machine code
// (agentexpr.AppendNative), and then either restores the registers and
// runs a displaced copy of the instruction, coming back to the original
// code (a false condition: no stop at all), or traps on an int3 at its
// end (true, or the conditions failed) for the tracer to take as a hit
// of the breakpoint. A condition that faults (unreadable memory) stops
// the thread with the fault inside the pad, which the tracer takes as a
// hit too.
//
// The layout, at At:
//
//	lea -FrameSize(%rsp),%rsp       leave the red zone; room for the block
//	mov %rax,(%rsp) ... mov %r15,0x78(%rsp)   the block: every register but %rsp, in gdb's order
//	pushfq; pop %rax; mov %rax,0x88(%rsp)     eflags
//	lea FrameSize(%rsp),%rax; mov %rax,0x38(%rsp)   the original %rsp
//	movabs $Addr,%rax; mov %rax,0x80(%rsp)    %rip
//	mov %rsp,%rbx                   the conditions read the block through %rbx
//	<conditions>                    %rax: 1 to stop, 0 to go on
//	test %rax,%rax; jne trap
//	mov %rbx,%rsp; push 0x88(%rsp); popfq; mov (%rsp),%rax ... mov 0x8(%rsp),%rbx
//	lea FrameSize(%rsp),%rsp
//	<the displaced instruction and its jumps back>
//	trap: int3
//
// A thread may stop anywhere in it (a signal, an interrupt, a fault):
// Rewind gives back the registers it had at the breakpoint, or after the
// instruction when it has run, so that no client ever sees a PC in a pad
// and no signal frame points into one.

// Pad is the code of one breakpoint's pad, and what Rewind needs to know
// about it.
type Pad struct {
	// Code is what to write at At.
	Code []byte
	// Jump is what Table.Patch writes at Addr: a jump to At.
	Jump []byte
	// Addr is the breakpoint's address, At the pad's.
	Addr, At uint64
	// d is the displaced instruction, at copyAt.
	d *Displaced
	// Addresses of the layout's landmarks: after the first store (saved),
	// after pushfq (pushed, where %rsp is 8 bytes lower), the conditions
	// (body), the last lea (restored), the copy and the trap.
	saved, pushed, body, restored, copyAt, trap uint64
}

// Block holds a thread's registers as the pad saves them: gdb's numbers
// 0 to 17 (rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8 to r15, rip,
// eflags).
type Block [BlockSlots]uint64

const (
	// BlockSlots is the number of registers in a Block.
	BlockSlots = 18
	// FrameSize is how far below the thread's stack pointer the pad
	// keeps its block: the 128-byte red zone the ABI lets leaf functions
	// use, then the block.
	FrameSize = 128 + 8*BlockSlots
	slotRIP   = 16
	slotFlags = 17
	slotRSP   = 7
)

// gdbSlot maps a machine register number (rax 0, rcx 1, rdx 2, rbx 3,
// rsp 4, rbp 5, rsi 6, rdi 7, r8 to r15) to its gdb number.
var gdbSlot = [16]int{0, 2, 3, 1, 7, 6, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15}

// Machine register numbers the layout names.
const (
	regRAX = 0
	regRBX = 3
	regRSP = 4
)

// NewPad lays out the pad at address at for the breakpoint at addr,
// whose original instruction starts code (breakpoints shadowed, and the
// bytes after it, at least to addr+5), with conds, machine code that
// follows agentexpr.AppendNative's convention. It refuses, wrapping
// ErrNotDisplaceable, an instruction that cannot run displaced by itself
// (Displaced.Free), and a pad outside PadRange.
func NewPad(code []byte, addr, at uint64, conds []byte) (*Pad, error) {
	p := &Pad{Addr: addr, At: at}
	n, err := padLen(code, addr)
	if err != nil {
		return nil, err
	}
	if p.Jump, err = padJump(code, addr, at, n); err != nil {
		return nil, err
	}

	b := appendMem(nil, 0x8d, regRSP, regRSP, -FrameSize) // lea
	for m := range 16 {
		if m == regRSP {
			continue
		}
		b = appendMem(b, 0x89, m, regRSP, int32(8*gdbSlot[m])) // mov %reg,slot(%rsp)
		if m == regRAX {
			p.saved = at + uint64(len(b))
		}
	}
	b = append(b, 0x9c) // pushfq
	p.pushed = at + uint64(len(b))
	b = append(b, 0x58) // pop %rax
	b = appendMem(b, 0x89, regRAX, regRSP, 8*slotFlags)
	b = appendMem(b, 0x8d, regRAX, regRSP, FrameSize)
	b = appendMem(b, 0x89, regRAX, regRSP, 8*slotRSP)
	b = binary.LittleEndian.AppendUint64(append(b, 0x48, 0xb8), addr) // movabs $addr,%rax
	b = appendMem(b, 0x89, regRAX, regRSP, 8*slotRIP)
	b = append(b, 0x48, 0x89, 0xe3) // mov %rsp,%rbx
	p.body = at + uint64(len(b))
	b = append(b, conds...)
	b = append(b, 0x48, 0x85, 0xc0, 0x0f, 0x85) // test %rax,%rax; jne rel32
	jne := len(b)
	b = append(b, 0, 0, 0, 0)
	b = append(b, 0x48, 0x89, 0xdc)                             // mov %rbx,%rsp
	b = append(b, 0xff, 0xb4, 0x24, 8*slotFlags, 0, 0, 0, 0x9d) // push 0x88(%rsp); popfq
	for _, m := range []int{0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, regRBX} {
		b = appendMem(b, 0x8b, m, regRSP, int32(8*gdbSlot[m])) // mov slot(%rsp),%reg; %rbx last
	}
	p.restored = at + uint64(len(b))
	b = appendMem(b, 0x8d, regRSP, regRSP, FrameSize)
	p.copyAt = at + uint64(len(b))
	d, err := Displace(code, addr, p.copyAt)
	if err != nil {
		return nil, err
	}
	p.d = d
	b = append(b, d.Code...)
	p.trap = at + uint64(len(b))
	binary.LittleEndian.PutUint32(b[jne:], uint32(int32(p.trap-(at+uint64(jne)+4))))
	p.Code = append(b, Int3)
	return p, nil
}

// jumpSize is the size of the jump a pad's breakpoint gives way to.
const jumpSize = 5

// A jump (e9 and a 32-bit displacement) takes five bytes. Over an
// instruction shorter than that, it would cover the start of the next
// one, where a thread may stand, or come back to, from a branch, a
// signal handler or a stop: the jump's last bytes are then the next
// instruction's own (instruction punning, as E9Patch calls it), which
// fixes the displacement's high bytes and leaves the pad a window of
// addresses: 64 KiB for a 3-byte instruction, 16 MiB for a 4-byte one,
// 256 bytes for 2, one address for 1. Nothing but the instruction at the
// breakpoint changes, and that one only after an int3 guards it.

// padLen returns the length of the instruction at addr, which starts
// code, when a pad can run it: displaced, coming back by itself, with the
// bytes a jump over it would cover.
func padLen(code []byte, addr uint64) (int, error) {
	d, err := Displace(code, addr, addr)
	switch {
	case err != nil:
		return 0, err
	case !d.Free:
		return 0, fmt.Errorf("instruction at %#x does not come back by itself: %w", addr, ErrNotDisplaceable)
	case d.Len < jumpSize && len(code) < jumpSize:
		return 0, fmt.Errorf("instruction at %#x: the %d bytes after it unknown: %w", addr, jumpSize-d.Len, ErrNotDisplaceable)
	}
	return d.Len, nil
}

// padJump returns the jump from addr to a pad at at, over an instruction
// of n bytes that starts code.
func padJump(code []byte, addr, at uint64, n int) ([]byte, error) {
	rel := int64(at - (addr + jumpSize))
	if rel < math.MinInt32 || rel > math.MaxInt32 {
		return nil, fmt.Errorf("pad at %#x beyond a jump from %#x: %w", at, addr, ErrNotDisplaceable)
	}
	j := binary.LittleEndian.AppendUint32([]byte{0xe9}, uint32(int32(rel)))
	if n < jumpSize && !bytes.Equal(j[n:], code[n:jumpSize]) {
		return nil, fmt.Errorf("pad at %#x: a jump there from %#x changes the next instruction: %w", at, addr, ErrNotDisplaceable)
	}
	return j, nil
}

// PadRange returns the first and last address a pad of the breakpoint at
// addr, whose instruction starts code (as for NewPad), may start at: a
// jump's reach, and over an instruction shorter than the jump, the
// window its fixed last bytes leave.
func PadRange(code []byte, addr uint64) (first, last uint64, err error) {
	n, err := padLen(code, addr)
	if err != nil {
		return 0, 0, err
	}
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if n < jumpSize {
		// Displacement bytes from n-1 on are code[n:5]; those before it
		// are free.
		var r [4]byte
		copy(r[n-1:], code[n:jumpSize])
		lo = int64(int32(binary.LittleEndian.Uint32(r[:])))
		for i := range n - 1 {
			r[i] = 0xff
		}
		hi = int64(int32(binary.LittleEndian.Uint32(r[:])))
	}
	next := int64(addr + jumpSize)
	return uint64(next + lo), uint64(next + hi), nil
}

// appendMem appends an instruction op (mov, lea) between machine
// register reg and disp(base), 64-bit.
func appendMem(b []byte, op byte, reg, base int, disp int32) []byte {
	b = append(b, 0x48|byte(reg>>3)<<2|byte(base>>3), op)
	mod := byte(0x80)
	if disp >= math.MinInt8 && disp <= math.MaxInt8 {
		mod = 0x40
	}
	b = append(b, mod|byte(reg&7)<<3|byte(base&7))
	if base&7 == regRSP {
		b = append(b, 0x24) // SIB: no index
	}
	if mod == 0x40 {
		return append(b, byte(int8(disp)))
	}
	return binary.LittleEndian.AppendUint32(b, uint32(disp))
}

// Resume is where a thread at Addr whose conditions were found false
// goes on: the displaced instruction.
func (p *Pad) Resume() uint64 { return p.copyAt }

// Contains reports whether rip is in the pad, or just past its trap.
func (p *Pad) Contains(rip uint64) bool { return rip >= p.At && rip <= p.trap+1 }

// Trapped reports whether a thread whose SIGTRAP left it at rip hit the
// breakpoint through the pad: it ran the trap (a condition held or
// failed), or it single-stepped the jump at Addr into the pad.
func (p *Pad) Trapped(rip uint64) bool { return rip == p.trap+1 || rip == p.At }

// Faulted reports whether a fault at rip (a signal the CPU raised there)
// came from the pad's own code rather than the displaced instruction:
// the stack, or memory a condition reads.
func (p *Pad) Faulted(rip uint64) bool { return rip >= p.At && rip < p.copyAt || rip == p.trap }

// ErrNoBlock is Rewind's error when the block cannot be read.
var ErrNoBlock = errors.New("pad register block unreadable")

// Rewind puts back in regs (a Block of the thread's live registers, its
// RIP at rip in the pad, or just past its trap) the registers it had
// where it stands in the original code: at Addr, the instruction not run
// yet, or after the displaced instruction when it ran. read reads the
// block the pad saved, at an address in the thread's stack. It reports
// whether the instruction ran; regs is unchanged for a rip outside the
// pad.
func (p *Pad) Rewind(regs *Block, rip uint64, read func(at uint64) (Block, error)) (ran bool, err error) {
	fromBlock := func(at uint64) error {
		b, err := read(at)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNoBlock, err)
		}
		*regs = b
		return nil
	}
	switch {
	case rip == p.At:
	case rip > p.At && rip < p.body:
		if rip == p.pushed {
			regs[slotRSP] += 8
		}
		if rip >= p.saved {
			b, err := read(regs[slotRSP])
			if err != nil {
				return false, fmt.Errorf("%w: %w", ErrNoBlock, err)
			}
			regs[0] = b[0]
		}
		regs[slotRSP] += FrameSize
	case rip >= p.body && rip < p.restored, rip == p.trap, rip == p.trap+1:
		if err := fromBlock(regs[1]); err != nil {
			return false, err
		}
	case rip == p.restored:
		regs[slotRSP] += FrameSize
	case rip >= p.copyAt && rip < p.trap:
		to := p.d.PC(rip)
		regs[slotRIP] = to
		return to != p.Addr, nil
	default:
		return false, nil
	}
	regs[slotRIP] = p.Addr
	return false, nil
}
