package target

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// The probe program is a valid executable whose code is what the probe
// expects: the watched write, then the instruction breakpoint's target.
func TestProbeProgram(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(probeProgram()))
	require.NoError(t, err)
	require.Equal(t, elf.ET_EXEC, f.Type)
	require.Equal(t, elf.EM_X86_64, f.Machine)
	require.Equal(t, uint64(probeEntry), f.Entry)
	require.Len(t, f.Progs, 1)
	require.Equal(t, elf.PT_LOAD, f.Progs[0].Type)
	require.Equal(t, elf.PF_R|elf.PF_X, f.Progs[0].Flags)

	var insns []string
	offsets := map[int]string{}
	for off := 0; off < len(probeCode); {
		in, err := x86asm.Decode(probeCode[off:], 64)
		require.NoError(t, err, "at %d", off)
		s := strings.ToLower(x86asm.IntelSyntax(in, 0, nil))
		insns = append(insns, s)
		offsets[off] = s
		off += in.Len
	}
	require.Equal(t, []string{"mov qword ptr [rsp+0x8], rax", "nop", "mov eax, 0x3c", "xor edi, edi", "syscall"}, insns)
	require.Equal(t, "mov qword ptr [rsp+0x8], rax", offsets[probeWrite])
	require.Equal(t, "mov eax, 0x3c", offsets[probeExit])
}

// The probe answers, and reaps its test process. Whether traps are
// delivered depends on the machine: the answer is logged.
func TestProbeDebugRegisters(t *testing.T) {
	ok, reason := ProbeDebugRegisters()
	t.Logf("debug register traps delivered: %v (%s)", ok, reason)
	require.NotEmpty(t, reason)
	require.NotContains(t, reason, "cannot run the probe")

	pid, _ := probe()
	require.NotZero(t, pid)
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	require.ErrorIs(t, err, fs.ErrNotExist, "the probe's process %d is still there", pid)
}

func BenchmarkProbeDebugRegisters(b *testing.B) {
	for b.Loop() {
		ProbeDebugRegisters()
	}
}
