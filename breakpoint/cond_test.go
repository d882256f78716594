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

// conds returns the conditions the table holds for the breakpoint at
// addr.
func conds(a *Actions) []*agentexpr.Program {
	if a == nil {
		return nil
	}
	return a.Conds
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
	require.Equal(t, cond, conds(tab.Actions(0x1001)))
	child, err := tab.Clone(&fakeMemory{base: 0x1000, b: make([]byte, 16)})
	require.NoError(t, err)
	require.Equal(t, cond, conds(child.Actions(0x1001)))
	require.NoError(t, tab.SetConditions(0x1001, nil))
	require.Nil(t, tab.Actions(0x1001))
	require.Equal(t, cond, conds(child.Actions(0x1001)), "the child's conditions are its own")
	require.NoError(t, child.Remove(0x1001))
	require.NoError(t, child.Insert(0x1001))
	require.Nil(t, child.Actions(0x1001), "a breakpoint removed loses its conditions")

	var hw HWTable
	exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: 0x1001, Len: 1}
	require.ErrorIs(t, hw.SetConditions(0x1001, cond), ErrNotSet)
	require.NoError(t, hw.Insert(exec))
	require.NoError(t, hw.Insert(exec))
	require.NoError(t, hw.SetConditions(0x1001, cond))
	require.Equal(t, cond, conds(hw.Clone().Actions(0x1001)))
	require.NoError(t, hw.Remove(exec))
	require.Equal(t, cond, conds(hw.Actions(0x1001)), "inserted twice, removed once: still there")
	require.NoError(t, hw.Remove(exec))
	require.Nil(t, hw.Actions(0x1001))
}

// TestTableCommands: commands live beside conditions, each replaced on
// its own, and go with the breakpoint.
func TestTableCommands(t *testing.T) {
	tab := New(&fakeMemory{base: 0x1000, b: make([]byte, 16)})
	cond := []*agentexpr.Program{compile(t, opConst8, 1, opEnd)}
	cmd := []*agentexpr.Program{compile(t, opConst8, 2, opEnd)}
	require.ErrorIs(t, tab.SetCommands(0x1001, cmd, true), ErrNotInserted)
	require.NoError(t, tab.Insert(0x1001))
	require.NoError(t, tab.SetConditions(0x1001, cond))
	require.NoError(t, tab.SetCommands(0x1001, cmd, true))
	require.Equal(t, &Actions{Conds: cond, Cmds: cmd, Persist: true}, tab.Actions(0x1001))
	require.NoError(t, tab.SetConditions(0x1001, nil))
	require.Equal(t, &Actions{Cmds: cmd, Persist: true}, tab.Actions(0x1001))
	require.NoError(t, tab.SetCommands(0x1001, nil, true))
	require.Nil(t, tab.Actions(0x1001), "no persistence without commands")

	var hw HWTable
	exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: 0x1001, Len: 1}
	require.ErrorIs(t, hw.SetCommands(0x1001, cmd, false), ErrNotSet)
	require.NoError(t, hw.Insert(exec))
	require.NoError(t, hw.SetCommands(0x1001, cmd, false))
	require.Equal(t, &Actions{Cmds: cmd}, hw.Actions(0x1001))
	hw.Clear()
	require.Nil(t, hw.Actions(0x1001))
}

// output collects what printf writes.
type output struct{ b []byte }

func (o *output) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// TestHit: a hit stops the thread, or runs the commands and lets it go
// on, or neither when the conditions are false; a condition that fails
// stops it without the commands.
func TestHit(t *testing.T) {
	isTen := compile(t, opReg, 0, 0, opConst8, 10, opEqual, opEnd)
	isEleven := compile(t, opReg, 0, 0, opConst8, 11, opEqual, opEnd)
	broken := compile(t, opConst8, 1, opConst8, 0, opDivS, opEnd)
	// printf("r0=%d\n", r0): the argument, the function and channel
	// (unused by gdb's agent printf), then the format and its argument
	// count.
	const opPrintf = 0x34
	format := "r0=%d\\n\x00" // escaped, as gdb sends it
	printR0 := compile(t, append([]byte{opReg, 0, 0, opConst8, 0, opConst8, 0, opPrintf, 1, 0, byte(len(format))}, append([]byte(format), opEnd)...)...)
	for _, tt := range []struct {
		name    string
		a       *Actions
		stop    bool
		err     bool
		printed string
	}{
		{"none", nil, true, false, ""},
		{"true, no commands", &Actions{Conds: []*agentexpr.Program{isTen}}, true, false, ""},
		{"false", &Actions{Conds: []*agentexpr.Program{isEleven}, Cmds: []*agentexpr.Program{printR0}}, false, false, ""},
		{"commands", &Actions{Cmds: []*agentexpr.Program{printR0, printR0}}, false, false, "r0=10\nr0=10\n"},
		{"true, commands", &Actions{Conds: []*agentexpr.Program{isTen}, Cmds: []*agentexpr.Program{printR0}}, false, false, "r0=10\n"},
		{"condition fails", &Actions{Conds: []*agentexpr.Program{broken}, Cmds: []*agentexpr.Program{printR0}}, true, true, ""},
		{"command fails", &Actions{Cmds: []*agentexpr.Program{broken, printR0}}, false, true, ""},
	} {
		var out output
		stop, err := tt.a.Hit(agentexpr.Env{Regs: regs{}, Out: &out})
		if stop != tt.stop || (err != nil) != tt.err || string(out.b) != tt.printed {
			t.Errorf("%s: Hit = %v, %v, printed %q; want %v, error %v, printed %q", tt.name, stop, err, out.b, tt.stop, tt.err, tt.printed)
		}
	}
}
