package breakpoint

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// asmRange is a range with every kind of instruction (GNU as, checked
// with objdump), at 0x1000.
var asmRange = []byte{
	0x55,             // 1000 push %rbp
	0x48, 0x89, 0xe5, // 1001 mov %rsp,%rbp
	0x74, 0x06, // 1004 je 100c: in the range
	0x0f, 0x85, 0xf4, 0x0f, 0x00, 0x00, // 1006 jne 2000: out
	0xe8, 0xef, 0xff, 0xff, 0xff, // 100c call 1000
	0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, // 1011 mov 0x10(%rip),%rax
	0xff, 0xe0, // 1018 jmp *%rax
	0xeb, 0xe4, // 101a jmp 1000: in the range
	0x0f, 0x05, // 101c syscall
	0xc3, // 101e ret
	0x90, // 101f nop, falls through to 1020
}

// asmRangeExits are asmRange's exits, from any instruction in it.
var asmRangeExits = []RangeExit{
	step(ExitCall, 0x100c),
	step(ExitIndirect, 0x1018),
	step(ExitSyscall, 0x101c),
	step(ExitReturn, 0x101e),
	{Kind: ExitEnd, Insn: 0x101f, At: 0x1020},
	{Kind: ExitJump, Insn: 0x1006, At: 0x2000},
}

// step is an exit to single-step at at.
func step(k ExitKind, at uint64) RangeExit { return RangeExit{Kind: k, Insn: at, At: at, Step: true} }

func TestRangeExits(t *testing.T) {
	for _, c := range []struct {
		name           string
		code           []byte
		start, end, pc uint64
		want           []RangeExit
	}{
		{"every kind", asmRange, 0x1000, 0x1020, 0x1000, asmRangeExits},
		{"from the middle", asmRange, 0x1000, 0x1020, 0x1011, asmRangeExits},
		{"pc outside", asmRange, 0x1000, 0x1020, 0x1020, nil},
		{"pc before", asmRange, 0x1000, 0x1020, 0xfff, nil},
		{"a line that loops", []byte{
			0x83, 0x45, 0xfc, 0x01, // 1000 addl $0x1,-0x4(%rbp)
			0x83, 0x7d, 0xfc, 0x02, // 1004 cmpl $0x2,-0x4(%rbp)
			0x7e, 0xf6, // 1008 jle 1000
		}, 0x1000, 0x100a, 0x1000, []RangeExit{
			{Kind: ExitEnd, Insn: 0x1008, At: 0x100a},
		}},
		{"jump into an instruction", []byte{
			0xeb, 0x01, // 1000 jmp 1003: inside the mov
			0x48, 0x89, 0xe5, // 1002 mov %rsp,%rbp
		}, 0x1000, 0x1005, 0x1000, []RangeExit{
			step(ExitJump, 0x1000),
			{Kind: ExitEnd, Insn: 0x1002, At: 0x1005},
		}},
		{"undecodable", []byte{
			0x74, 0x0a, // 1000 je 100c: past what decodes
			0x0f, 0x01, 0xd4, // 1002 vmfunc: x86asm does not know it
			0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
		}, 0x1000, 0x1010, 0x1000, []RangeExit{
			step(ExitJump, 0x1000),
			step(ExitUnknown, 0x1002),
		}},
		{"endbr64", []byte{
			0xf3, 0x0f, 0x1e, 0xfa, // 1000 endbr64
			0xc3, // 1004 ret
		}, 0x1000, 0x1005, 0x1000, []RangeExit{step(ExitReturn, 0x1004)}},
		{"vzeroupper", []byte{
			0xc5, 0xf8, 0x77, // 1000 vzeroupper
			0xc3, // 1003 ret
		}, 0x1000, 0x1004, 0x1000, []RangeExit{step(ExitReturn, 0x1003)}},
		{"straddling the end", []byte{
			0x74, 0x02, // 1000 je 1004: inside the mov, past the end
			0x48, 0x89, 0xe5, // 1002 mov %rsp,%rbp, to 1005
		}, 0x1000, 0x1004, 0x1000, []RangeExit{
			step(ExitJump, 0x1000),
			{Kind: ExitEnd, Insn: 0x1002, At: 0x1005},
		}},
		{"pc inside the first decoding", []byte{
			0xb8, 0xc3, 0x90, 0x90, 0x90, // 1000 mov $0x909090c3,%eax (1001: ret; nop...)
			0x90, 0x90, 0x90, // 1005 nop
		}, 0x1000, 0x1008, 0x1001, []RangeExit{
			step(ExitReturn, 0x1001),
			{Kind: ExitEnd, Insn: 0x1007, At: 0x1008},
		}},
		{"loop and jrcxz", []byte{
			0xe2, 0xfe, // 1000 loop 1000
			0xe3, 0x10, // 1002 jrcxz 1014
			0xcc, // 1004 int3
		}, 0x1000, 0x1005, 0x1000, []RangeExit{
			step(ExitTrap, 0x1004),
			{Kind: ExitJump, Insn: 0x1002, At: 0x1014},
		}},
		{"two ways to one place", []byte{
			0x74, 0x02, // 1000 je 1004
			0x75, 0x00, // 1002 jne 1004
		}, 0x1000, 0x1004, 0x1000, []RangeExit{
			{Kind: ExitJump, Insn: 0x1000, At: 0x1004},
		}},
		{"code shorter than the range", []byte{0x90, 0x90}, 0x1000, 0x1008, 0x1000, []RangeExit{
			step(ExitUnknown, 0x1002),
		}},
		{"a jump out of user space", []byte{
			0xe9, 0xff, 0xff, 0xff, 0x7f, // 7fffffff0000 jmp .+0x80000004
		}, 0x7fffffff0000, 0x7fffffff0005, 0x7fffffff0000, []RangeExit{
			step(ExitJump, 0x7fffffff0000),
		}},
	} {
		got := RangeExits(c.code, c.start, c.end, c.pc)
		require.Equal(t, c.want, got, c.name)
		checkExits(t, c.code, c.start, c.end, c.pc, got)
	}
}

// checkExits checks the invariants of RangeExits' answer: sorted, one
// exit per address; a step exit is a decoded instruction in the range;
// any other exit is outside the range and not inside a decoded
// instruction; every instruction that may leave the range has its exit.
func checkExits(t testing.TB, code []byte, start, end, pc uint64, exits []RangeExit) {
	if pc < start || pc >= end {
		require.Empty(t, exits)
		return
	}
	d := decodeRange(code, start, end, start)
	if !d.boundary[pc] {
		d = decodeRange(code, start, end, pc)
	}
	stepAt := map[uint64]bool{}
	for i, e := range exits {
		if i > 0 {
			require.Less(t, exits[i-1].At, e.At, "% x [%#x,%#x) pc %#x: %+v", code, start, end, pc, exits)
		}
		if e.Step {
			require.Equal(t, e.Insn, e.At)
			require.True(t, e.At >= start && e.At < end && d.boundary[e.At], "%+v", e)
			stepAt[e.At] = true
		} else {
			require.True(t, e.At < start || e.At >= end, "%+v in [%#x,%#x)", e, start, end)
			require.False(t, d.inside(e.At), "%+v inside an instruction", e)
		}
	}
	for _, a := range d.addrs {
		switch d.insns[a].flow {
		case flowCall, flowCallIndirect, flowReturn, flowJumpIndirect, flowFar, flowSyscall, flowTrap, flowUnknown:
			require.True(t, stepAt[a], "%#x: %+v has no exit in %+v", a, d.insns[a], exits)
		}
	}
}

func FuzzRangeExits(f *testing.F) {
	f.Add(asmRange, uint16(0x20), uint16(0))
	f.Add([]byte{0xb8, 0xc3, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90}, uint16(8), uint16(1))
	f.Add([]byte{0x74, 0x02, 0x48, 0x89, 0xe5}, uint16(4), uint16(0))
	f.Fuzz(func(t *testing.T, code []byte, n, pcOff uint16) {
		const start = 0x400000
		end := start + uint64(n)
		pc := start + uint64(pcOff)
		checkExits(t, code, start, end, pc, RangeExits(code, start, end, pc))
	})
}

// BenchmarkRangeExits plans asmRange (32 bytes, 12 instructions), as a
// range step would at its start.
func BenchmarkRangeExits(b *testing.B) {
	for b.Loop() {
		RangeExits(asmRange, 0x1000, 0x1020, 0x1000)
	}
}
