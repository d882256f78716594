package breakpoint

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/agentexpr"
	"procgdb/inferior"
)

// regs is a thread whose register 0 holds 10.
type regs struct{}

func (regs) Register(n int) (uint64, error) {
	if n == 0 {
		return 10, nil
	}
	return 0, errors.New("no such register")
}

// compile compiles bytecode that the test knows to be valid.
func compile(t *testing.T, code ...byte) *agentexpr.Program {
	t.Helper()
	p, err := agentexpr.Compile(code)
	require.NoError(t, err)
	return p
}

// Opcodes of the manual's "Agent Expressions" used below.
const (
	opReg    = 0x26
	opConst8 = 0x22
	opEqual  = 0x13
	opEnd    = 0x27
	opDivS   = 0x05
)

func TestHolds(t *testing.T) {
	isTen := compile(t, opReg, 0, 0, opConst8, 10, opEqual, opEnd)
	isEleven := compile(t, opReg, 0, 0, opConst8, 11, opEqual, opEnd)
	broken := compile(t, opConst8, 1, opConst8, 0, opDivS, opEnd) // divides by zero
	env := agentexpr.Env{Regs: regs{}}
	for _, tt := range []struct {
		name  string
		conds []*agentexpr.Program
		want  bool
		err   bool
	}{
		{"none", nil, true, false},
		{"true", []*agentexpr.Program{isTen}, true, false},
		{"false", []*agentexpr.Program{isEleven}, false, false},
		{"any true", []*agentexpr.Program{isEleven, isTen}, true, false},
		{"error", []*agentexpr.Program{isEleven, broken}, true, true},
		{"true despite an error", []*agentexpr.Program{broken, isTen}, true, false},
	} {
		got, err := Holds(tt.conds, env)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: Holds = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// TestTableConditions: conditions belong to an inserted breakpoint, go
// with it, are replaced by new ones and copied to a forked child's table.
func TestTableConditions(t *testing.T) {
	mem := &fakeMemory{base: 0x1000, b: make([]byte, 16)}
	tab := New(mem)
	cond := []*agentexpr.Program{compile(t, opConst8, 1, opEnd)}
	require.ErrorIs(t, tab.SetConditions(0x1001, cond), ErrNotInserted)
	require.NoError(t, tab.Insert(0x1001))
	require.NoError(t, tab.SetConditions(0x1001, cond))
	require.Equal(t, cond, tab.Conditions(0x1001))
	child := tab.Clone(&fakeMemory{base: 0x1000, b: make([]byte, 16)})
	require.Equal(t, cond, child.Conditions(0x1001))
	require.NoError(t, tab.SetConditions(0x1001, nil))
	require.Empty(t, tab.Conditions(0x1001))
	require.Equal(t, cond, child.Conditions(0x1001), "the child's conditions are its own")
	require.NoError(t, child.Remove(0x1001))
	require.NoError(t, child.Insert(0x1001))
	require.Empty(t, child.Conditions(0x1001), "a breakpoint removed loses its conditions")

	var hw HWTable
	exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: 0x1001, Len: 1}
	require.ErrorIs(t, hw.SetConditions(0x1001, cond), ErrNotSet)
	require.NoError(t, hw.Insert(exec))
	require.NoError(t, hw.Insert(exec))
	require.NoError(t, hw.SetConditions(0x1001, cond))
	require.Equal(t, cond, hw.Clone().Conditions(0x1001))
	require.NoError(t, hw.Remove(exec))
	require.Equal(t, cond, hw.Conditions(0x1001), "inserted twice, removed once: still there")
	require.NoError(t, hw.Remove(exec))
	require.Empty(t, hw.Conditions(0x1001))
}
