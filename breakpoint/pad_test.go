package breakpoint

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// disassemble decodes code at pc into GNU syntax, one instruction a line,
// and the destination after a jump back as a quad.
func disassemble(t *testing.T, code []byte, pc uint64) []string {
	var out []string
	for len(code) > 0 {
		inst, err := x86asm.Decode(code, 64)
		require.NoError(t, err, "% x", code)
		out = append(out, x86asm.GNUSyntax(inst, pc, nil))
		code, pc = code[inst.Len:], pc+uint64(inst.Len)
		if m, ok := inst.Args[0].(x86asm.Mem); ok && inst.Op == x86asm.JMP && m.Base == x86asm.RIP && m.Disp == 0 {
			out = append(out, fmt.Sprintf(".quad %#x", binary.LittleEndian.Uint64(code)))
			code, pc = code[8:], pc+8
		}
	}
	return out
}

func TestPadLayout(t *testing.T) {
	const addr, at = 0x401000, 0x402000
	// mov 0x10(%rip),%eax: 6 bytes, RIP-relative.
	code := []byte{0x8b, 0x05, 0x10, 0, 0, 0, 0x90}
	conds := []byte{0x31, 0xc0} // xor %eax,%eax: never stop
	p, err := NewPad(code, addr, at, conds)
	require.NoError(t, err)
	require.Equal(t, []byte{0xe9, 0xfb, 0x0f, 0, 0}, p.Jump)
	got := strings.Join(disassemble(t, p.Code, at), "\n")
	want := strings.Join([]string{
		"lea -0x110(%rsp),%rsp",
		"mov %rax,(%rsp)",
		"mov %rcx,0x10(%rsp)",
		"mov %rdx,0x18(%rsp)",
		"mov %rbx,0x8(%rsp)",
		"mov %rbp,0x30(%rsp)",
		"mov %rsi,0x20(%rsp)",
		"mov %rdi,0x28(%rsp)",
		"mov %r8,0x40(%rsp)",
		"mov %r9,0x48(%rsp)",
		"mov %r10,0x50(%rsp)",
		"mov %r11,0x58(%rsp)",
		"mov %r12,0x60(%rsp)",
		"mov %r13,0x68(%rsp)",
		"mov %r14,0x70(%rsp)",
		"mov %r15,0x78(%rsp)",
		"pushfq",
		"pop %rax",
		"mov %rax,0x88(%rsp)",
		"lea 0x110(%rsp),%rax",
		"mov %rax,0x38(%rsp)",
		"mov $0x401000,%rax",
		"mov %rax,0x80(%rsp)",
		"mov %rsp,%rbx",
		"xor %eax,%eax",
		"test %rax,%rax",
		"jne 0x4020fc", // the int3
		"mov %rbx,%rsp",
		"pushq 0x88(%rsp)",
		"popfq",
		"mov (%rsp),%rax",
		"mov 0x10(%rsp),%rcx",
		"mov 0x18(%rsp),%rdx",
		"mov 0x30(%rsp),%rbp",
		"mov 0x20(%rsp),%rsi",
		"mov 0x28(%rsp),%rdi",
		"mov 0x40(%rsp),%r8",
		"mov 0x48(%rsp),%r9",
		"mov 0x50(%rsp),%r10",
		"mov 0x58(%rsp),%r11",
		"mov 0x60(%rsp),%r12",
		"mov 0x68(%rsp),%r13",
		"mov 0x70(%rsp),%r14",
		"mov 0x78(%rsp),%r15",
		"mov 0x8(%rsp),%rbx",
		"lea 0x110(%rsp),%rsp",
		"mov -0x10d8(%rip),%eax", // the displaced load: its data stays at addr+6+0x10
		"jmpq *(%rip)",
		".quad 0x401006",
		"int3",
	}, "\n")
	require.Equal(t, want, got)

	// Rewinding: from the block, before the copy, after it.
	live := Block{0: 1, 1: 0x7000, 7: 0x8000, 16: 0}
	saved := Block{0: 10, 1: 11, 7: 0x9000, 16: addr, 17: 0x246}
	read := func(at uint64) (Block, error) {
		require.Equal(t, uint64(0x7000), at)
		return saved, nil
	}
	r := live
	ran, err := p.Rewind(&r, p.body, read)
	require.NoError(t, err)
	require.False(t, ran)
	require.Equal(t, saved, r)
	r = live
	ran, err = p.Rewind(&r, p.trap+1, read)
	require.NoError(t, err)
	require.False(t, ran)
	require.Equal(t, saved, r)
	r = live
	_, err = p.Rewind(&r, p.restored, read)
	require.NoError(t, err)
	require.Equal(t, uint64(0x8000+FrameSize), r[7])
	require.Equal(t, uint64(addr), r[16])
	r = live
	ran, err = p.Rewind(&r, p.copyAt+6, read)
	require.NoError(t, err)
	require.True(t, ran)
	require.Equal(t, uint64(addr+6), r[16])
	r = live
	ran, err = p.Rewind(&r, p.copyAt, read)
	require.NoError(t, err)
	require.False(t, ran)
	require.Equal(t, uint64(addr), r[16])
	require.Equal(t, live[7], r[7])
	// In the prologue: %rsp is below its frame, %rax saved already.
	r = Block{0: 99, 1: 5, 7: 0x7000}
	_, err = p.Rewind(&r, p.saved+5, read)
	require.NoError(t, err)
	require.Equal(t, Block{0: 10, 1: 5, 7: 0x7000 + FrameSize, 16: addr}, r)
	// Between pushfq and pop, %rsp is 8 lower.
	r = Block{0: 99, 1: 5, 7: 0x7000 - 8}
	_, err = p.Rewind(&r, p.pushed, read)
	require.NoError(t, err)
	require.Equal(t, Block{0: 10, 1: 5, 7: 0x7000 + FrameSize, 16: addr}, r)

	for _, c := range []struct {
		name string
		code []byte
		at   uint64
	}{
		{"short instruction, nothing after it", []byte{0x55}, at},
		{"short instruction, pad outside its window", []byte{0x48, 0x89, 0xf8, 0x48, 0x63, 0xd0}, at},
		{"indirect call", []byte{0xff, 0x15, 0x10, 0, 0, 0}, at},
		{"pad beyond a jump", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, addr + 1<<32},
	} {
		_, err := NewPad(c.code, addr, c.at, conds)
		require.ErrorIs(t, err, ErrNotDisplaceable, c.name)
	}
}

// TestPadRange: over an instruction shorter than a jump, the jump's last
// bytes are the next instruction's, and the pad has a window.
func TestPadRange(t *testing.T) {
	const addr = 0x555555555000
	conds := []byte{0x31, 0xc0}
	for _, c := range []struct {
		name        string
		code        []byte
		first, last uint64
	}{
		// mov %rdi,%rax; movslq %eax,%rdx: the displacement is 0x6348xxxx.
		{"3 bytes", []byte{0x48, 0x89, 0xf8, 0x48, 0x63, 0xd0}, addr + 5 + 0x63480000, addr + 5 + 0x6348ffff},
		// mov -0x4(%rbp),%eax; mov ...: 0x8b48xxxx, backwards.
		{"3 bytes, backwards", []byte{0x8b, 0x45, 0xfc, 0x48, 0x8b, 0x05}, addr + 5 - 0x74b80000, addr + 5 - 0x74b70001},
		// mov %rdi,-0x18(%rbp); mov ...: 0x48xxxxxx.
		{"4 bytes", []byte{0x48, 0x89, 0x7d, 0xe8, 0x48, 0x8b}, addr + 5 + 0x48000000, addr + 5 + 0x48ffffff},
		// push %rbp; mov %rsp,%rbp: one address.
		{"1 byte", []byte{0x55, 0x48, 0x89, 0xe5, 0x48}, addr + 5 + 0x48e58948, addr + 5 + 0x48e58948},
		// movl $1,-0x4(%rbp): a jump's reach.
		{"7 bytes", []byte{0xc7, 0x45, 0xfc, 1, 0, 0, 0}, addr + 5 - 1<<31, addr + 5 + 1<<31 - 1},
	} {
		first, last, err := PadRange(c.code, addr)
		require.NoError(t, err, c.name)
		require.Equal(t, [2]uint64{c.first, c.last}, [2]uint64{first, last}, c.name)
		for _, at := range []uint64{first, last, first + (last-first)/2} {
			p, err := NewPad(c.code, addr, at, conds)
			require.NoError(t, err, "%s: pad at %#x", c.name, at)
			require.Equal(t, byte(0xe9), p.Jump[0])
			require.Equal(t, at, addr+5+uint64(int64(int32(binary.LittleEndian.Uint32(p.Jump[1:])))), c.name)
		}
		if c.name == "7 bytes" {
			continue
		}
		for _, at := range []uint64{first - 1, last + 1} {
			_, err := NewPad(c.code, addr, at, conds)
			require.ErrorIs(t, err, ErrNotDisplaceable, "%s: pad at %#x", c.name, at)
		}
	}

	// The jump keeps the next instruction, and the copy comes back to it.
	code := []byte{0x48, 0x89, 0xf8, 0x48, 0x63, 0xd0}
	at := uint64(addr + 5 + 0x63481234)
	p, err := NewPad(code, addr, at, conds)
	require.NoError(t, err)
	require.Equal(t, []byte{0xe9, 0x34, 0x12, 0x48, 0x63}, p.Jump)
	got := disassemble(t, p.Code[p.copyAt-at:], p.copyAt)
	require.Equal(t, []string{"mov %rdi,%rax", "jmpq *(%rip)", fmt.Sprintf(".quad %#x", addr+3), "int3"}, got)
	r := Block{}
	ran, err := p.Rewind(&r, p.copyAt+3, nil)
	require.NoError(t, err)
	require.True(t, ran)
	require.Equal(t, uint64(addr+3), r[slotRIP])
}
