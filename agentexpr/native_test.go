package agentexpr

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// lit is a const64 of v, for the native tests' operands.
func lit(v uint64) []byte { return code(opConst64, u64(v)) }

// allOps is a program with every opcode AppendNative compiles, a loop
// (if_goto backward) and unreachable code (goto backward).
var allOps = code(
	opConst8, 0, opIfGoto, u16(0), opGoto, u16(8),
	opReg, u16(0), opReg, u16(17), opAdd, opConst16, u16(300), opSub,
	opConst32, u32(70000), opMul, lit(1<<40), opDivSigned, opConst8, 3, opDivUnsigned,
	opConst8, 5, opRemSigned, opConst8, 9, opRemUnsigned, opConst8, 2, opLsh,
	opConst8, 1, opRshSigned, opConst8, 1, opRshUnsigned, opLogNot, opConst8, 1, opBitAnd,
	opConst8, 1, opBitOr, opConst8, 1, opBitXor, opBitNot, opConst8, 1, opEqual,
	opConst8, 1, opLessSigned, opConst8, 1, opLessUnsigned, opExt, 8, opExt, 0, opExt, 64,
	opZeroExt, 8, opZeroExt, 0, opZeroExt, 64, opRef8, opRef16, opRef32, opRef64,
	opDup, opPop, opConst8, 1, opSwap, opPick, 1, opRot, opTraceQuick, 1, opTrace16, u16(2),
	opTracev, u16(1), opConst8, 1, opConst8, 1, opTrace, opConst8, 1, opConst8, 1, opTracenz,
	opEnd, opGoto, u16(0),
)

// TestNativeDecodes: the code is whole instructions, jumps stay inside it
// (it runs wherever it is copied), memory is read only through the
// evaluation stack's addresses and the register block and written only
// on the stack, and RBX is never an operand.
func TestNativeDecodes(t *testing.T) {
	var progs []*Program
	for _, b := range append([][]byte{allOps}, unhex(t, gdbConditions[0].hex), unhex(t, gdbConditions[5].hex)) {
		p, err := Compile(b)
		require.NoError(t, err)
		progs = append(progs, p)
	}
	prefix := []byte{0xcc, 0xcc, 0xcc}
	out, err := AppendNative(bytes.Clone(prefix), progs)
	require.NoError(t, err)
	require.Equal(t, prefix, out[:len(prefix)], "dst kept")
	code := out[len(prefix):]
	var text strings.Builder
	seen := map[x86asm.Op]bool{}
	for pc := 0; pc < len(code); {
		in, err := x86asm.Decode(code[pc:], 64)
		require.NoError(t, err, "at %#x: % x", pc, code[pc:min(pc+16, len(code))])
		text.WriteString(x86asm.IntelSyntax(in, uint64(pc), nil) + "\n")
		seen[in.Op] = true
		for _, arg := range in.Args {
			switch arg := arg.(type) {
			case x86asm.Rel:
				to := pc + in.Len + int(arg)
				require.True(t, to >= 0 && to <= len(code), "at %#x: %v jumps to %#x, outside", pc, in, to)
			case x86asm.Mem:
				require.Contains(t, []x86asm.Reg{x86asm.RAX, x86asm.RBX, x86asm.RSP}, arg.Base, "at %#x: %v", pc, in)
				require.Zero(t, arg.Index, "at %#x: %v", pc, in)
				require.Zero(t, arg.Segment, "at %#x: %v", pc, in)
				if arg.Base != x86asm.RSP {
					require.Contains(t, []x86asm.Op{x86asm.MOV, x86asm.MOVZX, x86asm.PUSH}, in.Op, "at %#x: %v", pc, in)
					if in.Op != x86asm.PUSH { // push reads its operand
						require.IsType(t, x86asm.Reg(0), in.Args[0], "at %#x: %v writes memory", pc, in)
					}
				}
			case x86asm.Reg:
				require.NotContains(t, []x86asm.Reg{x86asm.RBX, x86asm.EBX, x86asm.BX, x86asm.BL}, arg, "at %#x: %v", pc, in)
			}
		}
		pc += in.Len
	}
	for _, op := range []x86asm.Op{x86asm.IDIV, x86asm.DIV, x86asm.CMOVA, x86asm.SAR, x86asm.SHL, x86asm.SHR,
		x86asm.MOVZX, x86asm.IMUL, x86asm.NEG, x86asm.SETB, x86asm.SETL, x86asm.SETE} {
		require.True(t, seen[op], "%v not emitted", op)
	}
	t.Logf("%d bytes:\n%s", len(code), text.String())
}

func TestNativeRefuses(t *testing.T) {
	deep := strings.Repeat(string([]byte{opConst8, 1}), NativeMaxDepth)
	for _, c := range []struct {
		name  string
		conds [][]byte
		msg   string
	}{
		{"getv", [][]byte{code(opGetv, u16(1), opEnd)}, "condition 0: offset 0: getv: not compiled"},
		{"setv", [][]byte{code(opConst8, 1, opSetv, u16(1), opEnd)}, "offset 2: setv: not compiled"},
		{"printf", [][]byte{code(opConst8, 0, opConst8, 0, opPrintf, 0, 0, 1, 0, opConst8, 1, opEnd)},
			"offset 4: printf"},
		{"reg 18", [][]byte{code(opConst8, 1, opEnd), code(opReg, u16(NativeRegisters), opEnd)},
			"condition 1: offset 0: reg: register 18 not in the block"},
		{"too deep", [][]byte{code(deep, opConst8, 1, opEnd)}, "stack depth 65, deeper than 64"},
	} {
		var progs []*Program
		for _, b := range c.conds {
			p, err := Compile(b)
			require.NoError(t, err, c.name)
			progs = append(progs, p)
		}
		dst := []byte{1, 2}
		out, err := AppendNative(dst, progs)
		require.ErrorIs(t, err, ErrUnsupported, c.name)
		require.Contains(t, err.Error(), c.msg, c.name)
		require.Equal(t, dst, out, c.name)
	}
	p, err := Compile(code(deep, opEnd))
	require.NoError(t, err)
	_, err = AppendNative(nil, []*Program{p})
	require.NoError(t, err, "depth %d", NativeMaxDepth)
	_, err = AppendNative(nil, []*Program{nil})
	require.ErrorIs(t, err, ErrInvalid)
}

// TestNativeSize holds AppendNative to the size its doc promises: 18
// bytes, plus 6 per condition and 40 per instruction.
func TestNativeSize(t *testing.T) {
	p, err := Compile(allOps)
	require.NoError(t, err)
	// The longest instructions: a backward if_goto, a signed remainder,
	// end, zero_ext, a wide constant.
	q, err := Compile(code(opConst8, 1, opConst8, 1, opRemSigned, opZeroExt, 9, lit(1<<40), opIfGoto, u16(2), opEnd))
	require.NoError(t, err)
	for _, prog := range []*Program{p, q} {
		labels := make([]label, len(prog.code))
		a := &assembler{}
		for i := range labels {
			labels[i] = a.newLabel()
		}
		stop, next := a.newLabel(), a.newLabel()
		for i := range prog.code {
			in := &prog.code[i]
			before := len(a.b)
			require.NoError(t, a.instr(in, i, labels, stop, next))
			require.LessOrEqual(t, len(a.b)-before, 40, "%s", ops[in.op].name)
		}
	}
	out, err := AppendNative(nil, []*Program{p, q})
	require.NoError(t, err)
	require.LessOrEqual(t, len(out), 18+2*6+40*(len(p.code)+len(q.code)))
}
