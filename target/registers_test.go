package target

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/inferior"
	"procgdb/regs"
)

// TestFXSaveLayout runs a tracer made with the FXSAVE layout, as on a
// kernel without XSAVE, on a machine that has it: the x87 and SSE
// registers are read with PTRACE_GETFPREGS and written with
// PTRACE_SETFPREGS, and a write survives the thread's running.
func TestFXSaveLayout(t *testing.T) {
	prog := build(t, "basic")
	layout := regs.FXSaveLayout()
	tr := NewTracer(layout, testLogger()).Ctl()
	t.Cleanup(func() { tr.Close() })
	pid, _ := launch(t, tr, prog)
	t.Cleanup(func() { tr.Kill(pid) })

	// Register numbers in gdb's amd64 order.
	const (
		fctrl = 32
		xmm1  = 41
		mxcsr = 56
	)
	reg := func(s *regs.Set, n int) []byte {
		t.Helper()
		b, err := s.AppendRegister(nil, n)
		require.NoError(t, err)
		return b
	}

	s, err := tr.Registers(pid, pid, true)
	require.NoError(t, err)
	require.Len(t, s.XSave, 512)
	// A freshly exec'd thread has the x87 and SSE defaults.
	require.Equal(t, uint32(0x037f), binary.LittleEndian.Uint32(reg(s, fctrl)))
	require.Equal(t, uint32(0x1f80), binary.LittleEndian.Uint32(reg(s, mxcsr)))
	require.Len(t, s.AppendG(nil), layoutGSize(t, s), "g has every register of the layout")

	want := bytes.Repeat([]byte{0x5a, 0xa5}, 8)
	require.NoError(t, s.SetRegister(xmm1, want))
	ftz := binary.LittleEndian.AppendUint32(nil, 0x1f80|1<<15)
	require.NoError(t, s.SetRegister(mxcsr, ftz))
	require.NoError(t, tr.SetRegisters(pid, pid, s))

	// The first instruction of the dynamic linker touches neither.
	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid}}))
	require.Equal(t, inferior.EventStep, wait(t, tr).Kind)
	s, err = tr.Registers(pid, pid, true)
	require.NoError(t, err)
	require.Equal(t, want, reg(s, xmm1))
	require.Equal(t, ftz, reg(s, mxcsr))
}

// layoutGSize is the length of a g packet's data for the set's layout:
// the sum of its registers' sizes.
func layoutGSize(t *testing.T, s *regs.Set) int {
	t.Helper()
	n := 0
	for i := range s.Layout.NumRegs() {
		info, ok := s.Layout.Info(i)
		require.True(t, ok)
		n += info.Size()
	}
	return n
}
