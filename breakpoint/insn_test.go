package breakpoint

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// The encodings in these tests were assembled with GNU as and checked
// with objdump; each comment is objdump's reading.

func TestDecodeInsn(t *testing.T) {
	const pc = 0x1000
	for _, c := range []struct {
		code   []byte
		op     x86asm.Op
		len    int
		flow   flow
		target uint64
		ripOff int
		unsure bool
	}{
		{[]byte{0x55}, x86asm.PUSH, 1, flowNext, 0, 0, false},                                                  // push %rbp
		{[]byte{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, x86asm.MOV, 7, flowNext, 0, 3, false},                        // mov 0x10(%rip),%rax
		{[]byte{0x80, 0x3d, 0x10, 0, 0, 0, 0x05}, x86asm.CMP, 7, flowNext, 0, 2, false},                        // cmpb $0x5,0x10(%rip)
		{[]byte{0xc7, 0x05, 0x10, 0, 0, 0, 1, 2, 3, 4}, x86asm.MOV, 10, flowNext, 0, 2, false},                 // movl $0x4030201,0x10(%rip)
		{[]byte{0xc5, 0xfa, 0x6f, 0x05, 0x10, 0, 0, 0}, x86asm.VMOVDQU, 8, flowNext, 0, 4, false},              // vmovdqu 0x10(%rip),%xmm0
		{[]byte{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, 0x10, 0, 0, 0}, x86asm.VMOVUPS, 10, flowNext, 0, 6, false}, // vmovups 0x10(%rip),%zmm0
		{[]byte{0xc4, 0xe3, 0x79, 0x0f, 0x05, 0x10, 0, 0, 0, 7}, x86asm.VPALIGNR, 10, flowNext, 0, 5, false},   // vpalignr $0x7,0x10(%rip),%xmm0,%xmm0
		{[]byte{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x45, 0x01}, x86asm.VMOVUPS, 7, flowNext, 0, 0, false},           // vmovups 0x40(%rbp),%zmm0
		{[]byte{0x67, 0x8b, 0x05, 0x10, 0, 0, 0}, x86asm.MOV, 7, flowNext, 0, 0, true},                         // mov 0x10(%eip),%eax
		{[]byte{0x0f, 0x85, 0xfa, 0x0f, 0, 0}, x86asm.JNE, 6, flowBranch, pc + 0x1000, 0, false},               // jne .+0x1000
		{[]byte{0x74, 0x10}, x86asm.JE, 2, flowBranch, pc + 0x12, 0, false},                                    // je .+0x12
		{[]byte{0xe2, 0xfe}, x86asm.LOOP, 2, flowBranch, pc, 0, false},                                         // loop .
		{[]byte{0x67, 0xe3, 0x04}, x86asm.JECXZ, 3, flowBranch, pc + 7, 0, false},                              // jecxz .+7
		{[]byte{0xc7, 0xf8, 0x10, 0, 0, 0}, x86asm.XBEGIN, 6, flowBranch, pc + 0x16, 0, false},                 // xbegin .+0x16
		{[]byte{0xeb, 0xe4}, x86asm.JMP, 2, flowJump, pc - 0x1a, 0, false},                                     // jmp .-0x1a
		{[]byte{0xe8, 0xea, 0xff, 0xff, 0xff}, x86asm.CALL, 5, flowCall, pc - 0x11, 0, false},                  // call .-0x11
		{[]byte{0xff, 0xd0}, x86asm.CALL, 2, flowCallIndirect, 0, 0, false},                                    // call *%rax
		{[]byte{0xff, 0x15, 0x10, 0, 0, 0}, x86asm.CALL, 6, flowCallIndirect, 0, 2, false},                     // call *0x10(%rip)
		{[]byte{0xc3}, x86asm.RET, 1, flowReturn, 0, 0, false},                                                 // ret
		{[]byte{0xf2, 0xc3}, x86asm.RET, 2, flowReturn, 0, 0, false},                                           // bnd ret
		{[]byte{0xff, 0x25, 0x10, 0, 0, 0}, x86asm.JMP, 6, flowJumpIndirect, 0, 2, false},                      // jmp *0x10(%rip)
		{[]byte{0x3e, 0xff, 0xe0}, x86asm.JMP, 3, flowJumpIndirect, 0, 0, false},                               // notrack jmp *%rax
		{[]byte{0xcb}, x86asm.LRET, 1, flowFar, 0, 0, false},                                                   // lret
		{[]byte{0x48, 0xcf}, x86asm.IRETQ, 2, flowFar, 0, 0, false},                                            // iretq
		{[]byte{0x0f, 0x05}, x86asm.SYSCALL, 2, flowSyscall, 0, 0, false},                                      // syscall
		{[]byte{0xcd, 0x80}, x86asm.INT, 2, flowSyscall, 0, 0, false},                                          // int $0x80
		{[]byte{0xcc}, x86asm.INT, 1, flowTrap, 0, 0, false},                                                   // int3
		{[]byte{0x0f, 0x0b}, x86asm.UD2, 2, flowTrap, 0, 0, false},                                             // ud2
		{[]byte{0xf4}, x86asm.HLT, 1, flowTrap, 0, 0, false},                                                   // hlt
		{[]byte{0xf3, 0xa4}, x86asm.MOVSB, 2, flowNext, 0, 0, false},                                           // rep movsb
		// What x86asm gets wrong.
		{[]byte{0xf3, 0x0f, 0x1e, 0xfa, 0x55}, x86asm.NOP, 4, flowNext, 0, 0, false},        // endbr64 (a "rep" to x86asm)
		{[]byte{0xc5, 0xf8, 0x77, 0xc3, 0x90}, x86asm.VZEROUPPER, 3, flowNext, 0, 0, false}, // vzeroupper (4 bytes to x86asm)
		{[]byte{0xc4, 0xe1, 0x7c, 0x77, 0xc3}, x86asm.VZEROALL, 4, flowNext, 0, 0, false},   // vzeroall, 3-byte VEX
		{[]byte{0x66, 0xe9, 1, 2, 3, 4}, 0, 0, flowUnknown, 0, 0, false},                    // jmpw: rel16 on AMD, rel32 on Intel
		{[]byte{0x66, 0xc3}, 0, 0, flowUnknown, 0, 0, false},                                // retw
		{[]byte{0x66, 0x4c, 0x0f, 0x38, 0xf6, 0xc7}, 0, 0, flowUnknown, 0, 0, false},        // adcx: a lone prefix to x86asm
		{[]byte{0x0f, 0x01, 0xd4}, 0, 0, flowUnknown, 0, 0, false},                          // vmfunc: unrecognized
		{[]byte{0x0f, 0x85, 0xfa}, 0, 0, flowUnknown, 0, 0, false},                          // truncated
		{nil, 0, 0, flowUnknown, 0, 0, false},
	} {
		in := decodeInsn(c.code, pc)
		require.Equal(t, c.flow, in.flow, "% x", c.code)
		if c.flow == flowUnknown {
			require.Equal(t, 1, in.len, "% x", c.code)
			continue
		}
		require.Equal(t, c.op, in.op, "% x", c.code)
		require.Equal(t, c.len, in.len, "% x", c.code)
		require.Equal(t, c.target, in.target, "% x: %#x", c.code, in.target)
		require.Equal(t, c.ripOff, in.ripOff, "% x", c.code)
		require.Equal(t, c.unsure, in.ripUnsure, "% x", c.code)
	}
}

// TestDecodeMatchesObjdump decodes the code of system libraries and
// checks every instruction's length against objdump's: the corrections in
// decodeInsn are complete for them, and an x86asm update that breaks
// lengths shows here.
func TestDecodeMatchesObjdump(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and disassembles system libraries")
	}
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump (binutils) is not installed")
	}
	for _, lib := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"} {
		if _, err := os.Stat(lib); err != nil {
			t.Logf("%s: %v", lib, err)
			continue
		}
		f, err := elf.Open(lib)
		require.NoError(t, err)
		text := f.Section(".text")
		require.NotNil(t, text, lib)
		code, err := text.Data()
		require.NoError(t, err)
		f.Close()

		starts := objdumpStarts(t, objdump, lib)
		var n, unknown int
		for pc := text.Addr; pc < text.Addr+uint64(len(code)); {
			in := decodeInsn(code[pc-text.Addr:], pc)
			n++
			next := pc + uint64(in.len)
			if in.flow == flowUnknown {
				unknown++
				for next < text.Addr+uint64(len(code)) && !starts[next] {
					next++
				}
			} else if !starts[next] && next < text.Addr+uint64(len(code)) && in.op != x86asm.FWAIT {
				// objdump shows fwait (9b) and the x87 instruction after
				// it as one ("fstcw"); they are two.
				t.Errorf("%s: %#x: % x: %v is %d bytes; objdump disagrees",
					lib, pc, code[pc-text.Addr:next-text.Addr], in.op, in.len)
			}
			pc = next
		}
		t.Logf("%s: %d instructions, %d not decoded", lib, n, unknown)
		require.Less(t, unknown*1000, n, "%s: too many undecoded", lib)
	}
}

// objdumpStarts returns the addresses where objdump starts an
// instruction in lib's .text.
func objdumpStarts(t *testing.T, objdump, lib string) map[uint64]bool {
	cmd := exec.Command(objdump, "-d", "--no-show-raw-insn", "-j", ".text", lib)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	starts := map[uint64]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		addr, _, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(line, " ") {
			continue
		}
		if a, err := strconv.ParseUint(strings.TrimSpace(addr), 16, 64); err == nil {
			starts[a] = true
		}
	}
	require.NoError(t, sc.Err())
	require.NoError(t, cmd.Wait())
	return starts
}
