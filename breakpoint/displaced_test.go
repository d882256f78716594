package breakpoint

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

func TestDisplace(t *testing.T) {
	const (
		pc      = 0x401000
		scratch = 0x500000 // 1 MiB above: RIP-relative data stays reachable
		far     = 0x7ffff7ff0000
	)
	le32 := func(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	back := func(dest uint64) []byte { return append([]byte{0xff, 0x25, 0, 0, 0, 0}, le64(dest)...) }
	// A RIP-relative operand at pc+len+0x10 seen from scratch+len.
	moved := le32(int32(pc - scratch + 0x10))
	type after struct{ rip, pc uint64 }
	for _, c := range []struct {
		name    string
		code    []byte
		scratch uint64
		want    []byte
		after   []after // the PC after the step at scratch, mapped
		call    bool
	}{
		{"push %rbp", []byte{0x55, 0x90}, scratch, []byte{0x55},
			[]after{{scratch, pc}, {scratch + 1, pc + 1}}, false},
		{"endbr64", []byte{0xf3, 0x0f, 0x1e, 0xfa}, scratch, []byte{0xf3, 0x0f, 0x1e, 0xfa},
			[]after{{scratch + 4, pc + 4}}, false},
		{"rep movsb (traps per iteration)", []byte{0xf3, 0xa4}, scratch, []byte{0xf3, 0xa4},
			[]after{{scratch, pc}, {scratch + 2, pc + 2}}, false},
		{"mov 0x10(%rip),%rax", []byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, scratch,
			cat([]byte{0x48, 0x8b, 0x05}, moved),
			[]after{{scratch + 7, pc + 7}}, false},
		{"mov 0x10(%rip),%rax, scratch below", []byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, 0x300000,
			cat([]byte{0x48, 0x8b, 0x05}, le32(pc-0x300000+0x10)),
			[]after{{0x300007, pc + 7}}, false},
		{"cmpb $0x5,0x10(%rip): the immediate stays", []byte{0x80, 0x3d, 0x10, 0, 0, 0, 0x05}, scratch,
			cat([]byte{0x80, 0x3d}, moved, []byte{0x05}),
			[]after{{scratch + 7, pc + 7}}, false},
		{"movl $0x4030201,0x10(%rip)", []byte{0xc7, 0x05, 0x10, 0, 0, 0, 1, 2, 3, 4}, scratch,
			cat([]byte{0xc7, 0x05}, moved, []byte{1, 2, 3, 4}),
			[]after{{scratch + 10, pc + 10}}, false},
		{"vmovdqu 0x10(%rip),%xmm0", []byte{0xc5, 0xfa, 0x6f, 0x05, 0x10, 0, 0, 0}, scratch,
			cat([]byte{0xc5, 0xfa, 0x6f, 0x05}, moved),
			[]after{{scratch + 8, pc + 8}}, false},
		{"vmovups 0x10(%rip),%zmm0", []byte{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, 0x10, 0, 0, 0}, scratch,
			cat([]byte{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05}, moved),
			[]after{{scratch + 10, pc + 10}}, false},
		{"vpalignr $0x7,0x10(%rip),%xmm0,%xmm0", []byte{0xc4, 0xe3, 0x79, 0x0f, 0x05, 0x10, 0, 0, 0, 7}, scratch,
			cat([]byte{0xc4, 0xe3, 0x79, 0x0f, 0x05}, moved, []byte{7}),
			[]after{{scratch + 10, pc + 10}}, false},
		{"jne .+0x1000", []byte{0x0f, 0x85, 0xfa, 0x0f, 0, 0}, scratch, cat([]byte{0x0f, 0x85, 14, 0, 0, 0}, back(pc+6), back(pc+0x1000)),
			[]after{{scratch, pc}, {scratch + 6, pc + 6}, {scratch + 20, pc + 0x1000}}, false},
		{"je .+0x12", []byte{0x74, 0x10}, scratch, cat([]byte{0x74, 14}, back(pc+2), back(pc+0x12)),
			[]after{{scratch + 2, pc + 2}, {scratch + 16, pc + 0x12}}, false},
		{"loop .", []byte{0xe2, 0xfe}, scratch, cat([]byte{0xe2, 14}, back(pc+2), back(pc)),
			[]after{{scratch + 2, pc + 2}, {scratch + 16, pc}}, false},
		{"jecxz .+7", []byte{0x67, 0xe3, 0x04}, scratch, cat([]byte{0x67, 0xe3, 14}, back(pc+3), back(pc+7)),
			[]after{{scratch + 3, pc + 3}, {scratch + 17, pc + 7}}, false},
		{"jmp .-0x1a", []byte{0xeb, 0xe4}, scratch, back(pc - 0x1a),
			[]after{{scratch, pc}, {pc - 0x1a, pc - 0x1a}}, false},
		{"jmp to far away", []byte{0xe9, 0x00, 0x00, 0x00, 0x70}, far, back(pc + 5 + 0x70000000),
			[]after{{far, pc}}, false},
		{"call .-0x11 (emulated: push the return address, jump)", []byte{0xe8, 0xea, 0xff, 0xff, 0xff}, scratch,
			cat([]byte{0xff, 0x35}, le32(14), back(pc-0x11), le64(pc+5)),
			[]after{{scratch, pc}, {scratch + 6, pc - 0x11}}, false},
		{"call *%rax", []byte{0xff, 0xd0}, far, []byte{0xff, 0xd0},
			[]after{{far, pc}, {0x7ffff7a00000, 0x7ffff7a00000}}, true},
		{"call *0x10(%rip)", []byte{0xff, 0x15, 0x10, 0, 0, 0}, scratch, cat([]byte{0xff, 0x15}, moved),
			[]after{{0x7ffff7a00000, 0x7ffff7a00000}}, true},
		{"ret", []byte{0xc3}, far, []byte{0xc3},
			[]after{{far, pc}, {0x401234, 0x401234}}, false},
		{"jmp *0x10(%rip)", []byte{0xff, 0x25, 0x10, 0, 0, 0}, scratch, cat([]byte{0xff, 0x25}, moved),
			[]after{{0x401234, 0x401234}}, false},
		{"notrack jmp *%rax", []byte{0x3e, 0xff, 0xe0}, far, []byte{0x3e, 0xff, 0xe0},
			[]after{{0x401234, 0x401234}}, false},
	} {
		d, err := Displace(c.code, pc, c.scratch)
		require.NoError(t, err, c.name)
		code := d.Code
		if in := decodeInsn(c.code, pc); in.flow == flowNext {
			// The copy, then the jump back to the next instruction.
			require.Equal(t, back(pc+uint64(in.len)), code[d.Len:], c.name)
			code = code[:d.Len]
		}
		require.Equal(t, c.want, code, "%s: % x", c.name, d.Code)
		require.LessOrEqual(t, len(d.Code), SlotSize, c.name)
		for _, a := range c.after {
			require.Equal(t, a.pc, d.PC(a.rip), "%s: PC(%#x)", c.name, a.rip)
		}
		pushed, want, ok := d.ReturnAddress()
		require.Equal(t, c.call, ok, c.name)
		require.Equal(t, !c.call, d.Free, c.name)
		if ok {
			n := uint64(d.Len)
			require.Equal(t, c.scratch+n, pushed, c.name)
			require.Equal(t, pc+n, want, c.name)
		}
		checkDisplaced(t, c.code, pc, c.scratch, d)
	}
}

func TestDisplaceRefuses(t *testing.T) {
	const pc = 0x401000
	for _, c := range []struct {
		name    string
		code    []byte
		scratch uint64
		reason  string
	}{
		{"RIP-relative, scratch too far", []byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, 0x7ffff7ff0000, "beyond ±2 GiB"},
		{"RIP-relative, exactly out of reach", []byte{0x48, 0x8b, 0x05, 0, 0, 0, 0}, pc + 0x80000001, "beyond ±2 GiB"},
		{"EIP-relative (addr32)", []byte{0x67, 0x8b, 0x05, 0x10, 0, 0, 0}, 0x500000, "memory operand not understood"},
		{"syscall", []byte{0x0f, 0x05}, 0x500000, "a system call"},
		{"int $0x80", []byte{0xcd, 0x80}, 0x500000, "a system call"},
		{"int3", []byte{0xcc}, 0x500000, "a trap"},
		{"ud2", []byte{0x0f, 0x0b}, 0x500000, "a trap"},
		{"lret", []byte{0xcb}, 0x500000, "a far transfer"},
		{"xbegin", []byte{0xc7, 0xf8, 0x10, 0, 0, 0}, 0x500000, "a transaction"},
		{"jmpw", []byte{0x66, 0xe9, 1, 2, 3, 4}, 0x500000, "not decoded with certainty"},
		{"adcx", []byte{0x66, 0x4c, 0x0f, 0x38, 0xf6, 0xc7}, 0x500000, "not decoded with certainty"},
		{"truncated", []byte{0x48, 0x8b, 0x05, 0x10}, 0x500000, "not decoded with certainty"},
		{"nothing", nil, 0x500000, "not decoded with certainty"},
	} {
		_, err := Displace(c.code, pc, c.scratch)
		require.ErrorIs(t, err, ErrNotDisplaceable, c.name)
		require.Contains(t, err.Error(), c.reason, c.name)
	}
	// The edge of reach: data 2 GiB below the copy's end is fine.
	d, err := Displace([]byte{0x48, 0x8b, 0x05, 0, 0, 0, 0}, pc, pc+0x80000000)
	require.NoError(t, err)
	require.Equal(t, []byte{0x48, 0x8b, 0x05, 0, 0, 0, 0x80}, d.Code[:d.Len])
}

// checkDisplaced checks the invariants of a displaced instruction: the
// copy decodes (by x86asm itself) to the same opcode and length; a
// step that did not happen maps back to pc, and a fall-through (for
// instructions that have one) to the next instruction.
func checkDisplaced(t testing.TB, code []byte, pc, scratch uint64, d *Displaced) {
	orig := decodeInsn(code, pc)
	require.Equal(t, orig.len, d.Len, "% x", code)
	require.LessOrEqual(t, len(d.Code), SlotSize, "% x", code)
	require.Equal(t, pc, d.PC(scratch))
	if orig.flow == flowJump || orig.flow == flowCall {
		// Emulated: nothing of the original is copied.
		return
	}
	copied := decodeInsn(d.Code[:d.Len], scratch)
	require.Equal(t, orig.op, copied.op, "% x -> % x", code, d.Code)
	require.Equal(t, orig.len, copied.len, "% x -> % x", code, d.Code)
	if orig.op != x86asm.NOP && orig.op != x86asm.VZEROUPPER && orig.op != x86asm.VZEROALL {
		inst, err := x86asm.Decode(d.Code[:d.Len], 64)
		require.NoError(t, err, "% x", d.Code)
		require.Equal(t, orig.op, inst.Op, "% x", d.Code)
	}
	end := scratch + uint64(d.Len)
	if orig.flow == flowNext || orig.flow == flowBranch {
		require.Equal(t, pc+uint64(orig.len), d.PC(end), "% x", code)
		// The jump back decodes as one and goes there.
		inst, err := x86asm.Decode(d.Code[d.Len:], 64)
		require.NoError(t, err)
		require.Equal(t, x86asm.JMP, inst.Op)
		require.Equal(t, pc+uint64(orig.len), binary.LittleEndian.Uint64(d.Code[d.Len+6:]))
	}
	if orig.ripOff != 0 {
		require.Equal(t, ripData(code, orig, pc), ripData(d.Code, copied, scratch), "% x", code)
	}
}

func FuzzDisplace(f *testing.F) {
	f.Add([]byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, uint64(0x401000), uint64(0x500000))
	f.Add([]byte{0x0f, 0x85, 0xfa, 0x0f, 0, 0}, uint64(0x401000), uint64(0x7ffff7ff0000))
	f.Add([]byte{0xc4, 0xe3, 0x79, 0x0f, 0x05, 0x10, 0, 0, 0, 7}, uint64(0x401000), uint64(0x400000))
	f.Add([]byte{0xe8, 0xea, 0xff, 0xff, 0xff}, uint64(0x401000), uint64(0x500000))
	f.Fuzz(func(t *testing.T, code []byte, pc, scratch uint64) {
		d, err := Displace(code, pc, scratch)
		if err != nil {
			require.ErrorIs(t, err, ErrNotDisplaceable)
			return
		}
		checkDisplaced(t, code, pc, scratch, d)
	})
}

// BenchmarkDisplace prepares a RIP-relative load, as a step over a
// breakpoint would.
func BenchmarkDisplace(b *testing.B) {
	code := []byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}
	for b.Loop() {
		if _, err := Displace(code, 0x401000, 0x500000); err != nil {
			b.Fatal(err)
		}
	}
}
