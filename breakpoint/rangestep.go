package breakpoint

import "sort"

// Range stepping at native speed (gdb's vCont;r START,END): rather than
// single-stepping every instruction while the PC stays in [START, END),
// put internal breakpoints on every way out of the range and let the
// thread run. RangeExits says where they go.
//
// The caller's loop, for a thread at pc in [start, end):
//   - insert an int3 at the At of every exit (reading the original bytes
//     first, as for any breakpoint) and resume the thread;
//   - when it stops at an exit with Step set (the PC rewound to At): lift
//     that int3, single-step the instruction (displaced, so that other
//     threads keep seeing the breakpoints), and look at the PC;
//   - when it stops at an exit without Step, or the PC after a step is
//     outside [start, end): remove the internal breakpoints and report
//     the step done (gdb's semantics: the step ends when the PC leaves
//     the range; a call leaves it, and gdb handles stepping over calls);
//   - when the PC after a step is inside the range: resume; if it is not
//     an instruction RangeExits decoded (the code was undecodable past
//     some point), plan again from there;
//   - any other stop (a signal, a user breakpoint, a watchpoint) is
//     reported as usual. A signal passed to the program must be delivered
//     with a single step, not a continue: its handler runs outside the
//     range, and the step stops at its first instruction.
//
// Other threads that hit the internal breakpoints are stepped past them
// out of line and never see them (see Displace).

// ExitKind is how a range step may leave its range.
type ExitKind uint8

const (
	// ExitEnd: the last instruction falls through past the end.
	ExitEnd ExitKind = iota + 1
	// ExitJump: a direct jump or branch (jmp, jcc, loop, jrcxz, xbegin)
	// whose target is outside the range, or inside it but not at an
	// instruction RangeExits decoded.
	ExitJump
	// ExitCall: a call, direct or indirect.
	ExitCall
	// ExitReturn: ret.
	ExitReturn
	// ExitIndirect: a jump through a register or memory, or a far
	// transfer.
	ExitIndirect
	// ExitSyscall: syscall, sysenter, int n: the kernel may go anywhere
	// (rt_sigreturn, clone) and comes back to the next instruction.
	ExitSyscall
	// ExitTrap: int3, ud2, hlt and the like, which raise a signal.
	ExitTrap
	// ExitUnknown: bytes that do not decode, or not with certainty.
	// Decoding stops there: what follows in the range is not planned.
	ExitUnknown
)

// RangeExit is a place where a range-stepping thread must be stopped.
type RangeExit struct {
	Kind ExitKind
	// Insn is the instruction that leaves the range, or may.
	Insn uint64
	// At is where the internal breakpoint goes. With Step, At is Insn:
	// its destination is not known in advance, so it is single-stepped
	// and the PC looked at. Without, At is outside the range: the target
	// of a jump out, or the address past the end the code falls through
	// to; a thread that gets there has left the range.
	At   uint64
	Step bool
}

// maxUserAddr bounds x86-64 user addresses (47 bits): a breakpoint at a
// target beyond cannot be inserted, and the jump there faults anyway.
const maxUserAddr = 1 << 47

// RangeExits decodes the code of the range [start, end) and returns where
// a thread at pc in the range must be stopped, sorted by At, one exit per
// address. code holds the original bytes from start (breakpoints
// shadowed), at least end-start of them; up to 15 more let the last
// instruction be decoded if it runs past end. It returns nil if pc is not
// in the range: the caller then single-steps once (gdb's vCont;r steps
// once before it looks at the range).
//
// The range is decoded from start, or from pc if pc is not an
// instruction boundary of that decoding. When in doubt an instruction is
// an exit to single-step; a jump to a place in the range that is not a
// decoded instruction is one too, so that no breakpoint lands inside an
// instruction.
func RangeExits(code []byte, start, end, pc uint64) []RangeExit {
	if pc < start || pc >= end {
		return nil
	}
	d := decodeRange(code, start, end, start)
	if !d.boundary[pc] {
		d = decodeRange(code, start, end, pc)
	}
	var exits []RangeExit
	for _, a := range d.addrs {
		in := d.insns[a]
		next := a + uint64(in.len)
		step := func(k ExitKind) { exits = append(exits, RangeExit{Kind: k, Insn: a, At: a, Step: true}) }
		switch in.flow {
		case flowNext, flowBranch, flowJump:
			if in.flow != flowJump && next >= end {
				exits = append(exits, RangeExit{Kind: ExitEnd, Insn: a, At: next})
			}
			if in.flow == flowNext {
				break
			}
			t := in.target
			switch {
			case t >= start && t < end:
				if !d.boundary[t] {
					step(ExitJump)
				}
			case d.inside(t) || t >= maxUserAddr:
				step(ExitJump)
			default:
				exits = append(exits, RangeExit{Kind: ExitJump, Insn: a, At: t})
			}
		case flowCall, flowCallIndirect:
			step(ExitCall)
		case flowReturn:
			step(ExitReturn)
		case flowJumpIndirect, flowFar:
			step(ExitIndirect)
		case flowSyscall:
			step(ExitSyscall)
		case flowTrap:
			step(ExitTrap)
		default:
			step(ExitUnknown)
		}
	}
	sort.SliceStable(exits, func(i, j int) bool { return exits[i].At < exits[j].At })
	out := exits[:0]
	for i, e := range exits {
		if i == 0 || e.At != exits[i-1].At {
			out = append(out, e)
		}
	}
	return out
}

// decoded is a range decoded from one address on: the instructions, in
// order, until the end or the first unknown one.
type decoded struct {
	addrs    []uint64
	insns    map[uint64]insn
	boundary map[uint64]bool
	from, to uint64 // the decoded bytes: [from, to)
}

// decodeRange decodes the range [start, end) from from on.
func decodeRange(code []byte, start, end, from uint64) decoded {
	d := decoded{insns: map[uint64]insn{}, boundary: map[uint64]bool{}, from: from, to: from}
	for a := from; a < end; {
		off := a - start
		var in insn
		if off >= uint64(len(code)) {
			in = unknownInsn // no bytes given
		} else {
			in = decodeInsn(code[off:], a)
		}
		d.addrs = append(d.addrs, a)
		d.insns[a] = in
		d.boundary[a] = true
		if in.flow == flowUnknown {
			break
		}
		a += uint64(in.len)
		d.to = a
	}
	return d
}

// inside reports whether addr falls inside a decoded instruction, after
// its first byte.
func (d decoded) inside(addr uint64) bool {
	return addr > d.from && addr < d.to && !d.boundary[addr]
}
