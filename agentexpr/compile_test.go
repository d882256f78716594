package agentexpr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompileRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		code []byte
		err  error
		msg  string
	}{
		{"empty", nil, ErrInvalid, "empty"},
		{"opcode 0", code(0x00, opEnd), ErrInvalid, "offset 0: opcode 0x0"},
		{"opcode 0x31", code(opConst8, 1, 0x31, opEnd), ErrInvalid, "offset 2: opcode 0x31"},
		{"opcode past printf", code(0x35), ErrInvalid, "opcode 0x35"},
		{"float", code(opFloat, opEnd), ErrUnsupported, "float: floating point"},
		{"ref_double", code(opConst8, 1, opRefDouble, opEnd), ErrUnsupported, "ref_double"},
		{"l_to_d", code(opConst8, 1, opLToD, opEnd), ErrUnsupported, "l_to_d"},
		{"truncated const32", code(opConst32, 1, 2, 3), ErrInvalid, "offset 0: const32: truncated"},
		{"truncated reg", code(opConst8, 1, opReg, 0), ErrInvalid, "offset 2: reg: truncated"},
		{"truncated goto", code(opGoto, 0), ErrInvalid, "goto: truncated"},
		{"goto past the end", code(opGoto, u16(4), opEnd), ErrInvalid, "goto to 4, not an instruction"},
		{"goto into an operand", code(opGoto, u16(4), opConst8, opEnd, opEnd), ErrInvalid, "goto to 4"},
		{"if_goto far", code(opConst8, 1, opIfGoto, u16(0xffff), opEnd), ErrInvalid, "if_goto to 65535"},
		{"underflow", code(opConst8, 1, opAdd, opEnd), ErrInvalid, "offset 2: add needs 2 values, the stack has 1"},
		{"pick too deep", code(opConst8, 1, opPick, 1, opEnd), ErrInvalid, "pick needs 2 values"},
		{"rot", code(opConst8, 1, opConst8, 1, opRot, opEnd), ErrInvalid, "rot needs 3"},
		{"printf underflow", code(opConst8, 0, opPrintf, 0, 0, 1, 0, opEnd), ErrInvalid, "printf needs 2 values"},
		{"no end", code(opConst8, 1), ErrInvalid, "const8: runs past the end"},
		{"if_goto falls off", code(opConst8, 1, opIfGoto, u16(0)), ErrInvalid, "if_goto: runs past the end"},
		{"depths differ", code(opConst8, 1, opIfGoto, u16(7), opConst8, 2, opEnd), ErrInvalid,
			"offset 7: reached with"},
		{"too deep", code(opConst8, 1, opDup, opGoto, u16(2)), ErrInvalid, "reached with"},
		{"printf truncated", code(opConst8, 0, opConst8, 0, opPrintf, 0, 0), ErrInvalid, "printf: truncated"},
		{"printf string short", code(opConst8, 0, opConst8, 0, opPrintf, 0, 0, 4, 'a', 0), ErrInvalid, "truncated or not NUL"},
		{"printf no NUL", code(opConst8, 0, opConst8, 0, opPrintf, 0, 0, 2, 'a', 'b', opEnd), ErrInvalid, "not NUL"},
		{"printf arg count", code(opConst8, 0, opConst8, 0, opPrintf, 0, 0, 3, "%d", 0, opEnd), ErrInvalid,
			"wants 1 arguments, given 0"},
		{"printf %f", code(opConst8, 1, opConst8, 0, opConst8, 0, opPrintf, 1, 0, 3, "%f", 0, opEnd), ErrUnsupported,
			"floating point"},
	} {
		_, err := Compile(c.code)
		require.ErrorIs(t, err, c.err, c.name)
		require.Contains(t, err.Error(), c.msg, c.name)
	}
}

// TestCompileDeepest: the deepest stack is MaxDepth.
func TestCompileDeepest(t *testing.T) {
	deep := strings.Repeat(string([]byte{opConst8, 1}), MaxDepth)
	p, err := Compile(code(deep, opEnd))
	require.NoError(t, err)
	require.Equal(t, MaxDepth, p.maxDepth)
	_, err = Compile(code(deep, opDup, opEnd))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "stack deeper than 1024")
}

// TestCompileUnreachable: code no path reaches is decoded (and must be
// valid) but not checked for depth, as gdb sometimes leaves some.
func TestCompileUnreachable(t *testing.T) {
	p, err := Compile(code(opConst8, 1, opEnd, opAdd, opAdd))
	require.NoError(t, err)
	v, err := p.Eval(Env{})
	require.NoError(t, err)
	require.Equal(t, uint64(1), v)
}
