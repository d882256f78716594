package agentexpr

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// gdbConditions are conditions gdb 13 sent with `break ... if COND` and
// `set breakpoint condition-evaluation target`, on the test program.
var gdbConditions = []struct {
	cond, hex string
	// set changes the test process before the run; want is the result.
	set  func(*fakeEnv)
	want uint64
}{
	{"x == 1 && g > 2",
		"26000622100222dc16080219162022011320001721003225000055555555801819162022022b1420002d2100322201210034220027",
		nil, 1},
	{"x == 1 && g > 2 (x = 0)",
		"26000622100222dc16080219162022011320001721003225000055555555801819162022022b1420002d2100322201210034220027",
		func(e *fakeEnv) { e.store(rbp-20, 4, 0) }, 0},
	{"x == 1 && g > 2 (g = 2)",
		"26000622100222dc16080219162022011320001721003225000055555555801819162022022b1420002d2100322201210034220027",
		func(e *fakeEnv) { e.store(addrG, 4, 2) }, 0},
	{"(char)gl == -7 || *gp != 5",
		"2500005555555580201a1640160822f916081320002f2500005555555580401a1916202205130e20002f2200210031220127",
		nil, 1},
	{"(char)gl == -7 || *gp != 5 (gl = 7, g = 5)",
		"2500005555555580201a1640160822f916081320002f2500005555555580401a1916202205130e20002f2200210031220127",
		func(e *fakeEnv) { e.store(globals+0x20, 8, 7) }, 0},
	{"st.bf == 5 && st.sbf < 0",
		"250000555555558030220502172a0322052a201320001a21003a2500005555555580302205021722030b160522001420003521003a220121003c220027",
		nil, 1},
	{"(x ? g : sh) > 4",
		"26000622100222dc1608021916200e20002125000055555555801819162021002d25000055555555802a18161022042b1427",
		nil, 1},
	{"(x ? g : sh) > 4 (x = 0)",
		"26000622100222dc1608021916200e20002125000055555555801819162021002d25000055555555802a18161022042b1427",
		func(e *fakeEnv) { e.store(rbp-20, 4, 0) }, 0},
	{"uc / 3 % 2 == 0", "250000555555558028172203051620220207162022001327", nil, 1},
	{"(unsigned long)gl >> 60 == 15", "2500005555555580201a16402a40223c2a400b2a40220f2a401327", nil, 1},
	{"-x < -1 && ~x != 0",
		"220026000622100222dc16080219162003162022ff16081420001e21003e26000622100222dc1608021916201216202200130e20003921003e2201210040220027",
		nil, 0},
	{"-x < -1 && ~x != 0 (x = 2)",
		"220026000622100222dc16080219162003162022ff16081420001e21003e26000622100222dc1608021916201216202200130e20003921003e2201210040220027",
		func(e *fakeEnv) { e.store(rbp-20, 4, 2) }, 1},
	{"x * 3 - 1 <= 5 ^ 1", "26000622100222dc1608021916202203041620220103162022052b140e22011127", nil, 0},
	{"x * 3 - 1 <= 5 ^ 1 (x = 3)", "26000622100222dc1608021916202203041620220103162022052b140e22011127",
		func(e *fakeEnv) { e.store(rbp-20, 4, 3) }, 1},
	{"(long)gl % 3 == -1 && 100 / (i+1) > 30 (i = 2)",
		"2500005555555580201a1640220307164022ff16081320001c210043226426000622100222ec1608021916202201021620051620221e2b1420003e2100432201210045220027",
		nil, 1},
	{"(long)gl % 3 == -1 && 100 / (i+1) > 30 (i = 3)",
		"2500005555555580201a1640220307164022ff16081320001c210043226426000622100222ec1608021916202201021620051620221e2b1420003e2100432201210045220027",
		func(e *fakeEnv) { e.store(rbp-4, 4, 3) }, 0},
}

func TestGDBConditions(t *testing.T) {
	for _, c := range gdbConditions {
		p, err := Compile(unhex(t, c.hex))
		require.NoError(t, err, c.cond)
		e := newProcess()
		if c.set != nil {
			c.set(e)
		}
		got, err := p.Eval(e.env())
		require.NoError(t, err, c.cond)
		require.Equal(t, c.want, got, c.cond)
	}
}

// TestReadsBatched: two locals of one frame cost one read of the
// process, and a global another.
func TestReadsBatched(t *testing.T) {
	// x * 3 - 1 <= 5 ^ 1 reads x once; x == 1 && g > 2 reads x and g.
	p, err := Compile(unhex(t, gdbConditions[0].hex))
	require.NoError(t, err)
	e := newProcess()
	_, err = p.Eval(e.env())
	require.NoError(t, err)
	require.Equal(t, 2, e.reads)
	// x (rbp-20) and y (rbp-4): 0x7fffffffe69c and 0x7fffffffe6ac share
	// the 64-byte block at 0x7fffffffe680.
	p, err = Compile(code(opReg, u16(regRBP), opConst8, 20, opSub, opRef32,
		opReg, u16(regRBP), opConst8, 4, opSub, opRef32, opAdd, opEnd))
	require.NoError(t, err)
	e = newProcess()
	v, err := p.Eval(e.env())
	require.NoError(t, err)
	require.Equal(t, uint64(3), v)
	require.Equal(t, 1, e.reads)
}

func TestGDBDprintf(t *testing.T) {
	for _, c := range []struct {
		name string
		hex  []string
		want string
	}{
		{`dprintf *f+11,"x=%d g=%u s=%s l=%ld c=%c p=%p h=%#x o=%o %lld %lu %5d|%-4x|%%\n", ` +
			`x, g, msg, gl, 65, gp, 255, 8, gl, (unsigned long)gl, x, x`,
			[]string{"26000622100222dc16080219162026000622100222dc1608021916202500005555555580201a16402a402500005555555580201a164022082300ff2500005555555580401a22412500005555555580201a16402500005555555580481a25000055555555801819162026000622100222dc16080219162022002200340c0041783d256420673d257520733d2573206c3d256c6420633d256320703d257020683d252378206f3d256f20256c6c6420256c75202535647c252d34787c25255c6e0027"},
			// What C's printf prints for these values.
			"x=1 g=5 s=hi l=-7 c=A p=0x555555558018 h=0xff o=10 -7 18446744073709551609     1|1   |%\n"},
		{`dprintf *f+4,"a %d\n", x; dprintf *f+4,"b %d\n", g`,
			[]string{
				"26000622100222dc1608021916202200220034010007612025645c6e0027",
				"2500005555555580181916202200220034010007622025645c6e0027",
			},
			"a 1\nb 5\n"},
	} {
		var out bytes.Buffer
		e := newProcess()
		env := e.env()
		env.Out = &out
		for _, h := range c.hex {
			p, err := Compile(unhex(t, h))
			require.NoError(t, err, c.name)
			require.NoError(t, p.Exec(env), c.name)
		}
		require.Equal(t, c.want, out.String(), c.name)
	}
}

// TestOpcodes runs each opcode on hand-made stacks.
func TestOpcodes(t *testing.T) {
	const neg2 = math.MaxUint64 - 1
	k := func(v uint8) []byte { return []byte{opConst8, v} }
	k64 := func(v uint64) []byte { return append([]byte{opConst64}, u64(v)...) }
	for _, c := range []struct {
		name string
		code []byte
		want uint64
		err  error
	}{
		{"add", code(k(2), k(3), opAdd, opEnd), 5, nil},
		{"sub", code(k(2), k(3), opSub, opEnd), math.MaxUint64, nil},
		{"mul", code(k(6), k(7), opMul, opEnd), 42, nil},
		{"div_signed", code(k(7), k(2), opExt, 8, opDivSigned, opEnd), 3, nil},
		{"div_signed negative", code(k(7), k(0xfe), opExt, 8, opDivSigned, opEnd), uint64(math.MaxUint64 - 2), nil},
		{"div_signed overflow", code(k64(1<<63), k(0xff), opExt, 8, opDivSigned, opEnd), 1 << 63, nil},
		{"div_unsigned", code(k64(neg2), k(2), opDivUnsigned, opEnd), math.MaxUint64 / 2, nil},
		{"rem_signed", code(k(0xf9), opExt, 8, k(3), opRemSigned, opEnd), math.MaxUint64, nil},
		{"rem_unsigned", code(k(0xf9), opExt, 8, k(3), opRemUnsigned, opEnd), (math.MaxUint64 - 6) % 3, nil},
		{"div by zero", code(k(1), k(0), opDivSigned, opEnd), 0, ErrDivideByZero},
		{"rem by zero", code(k(1), k(0), opRemUnsigned, opEnd), 0, ErrDivideByZero},
		{"lsh", code(k(1), k(40), opLsh, opEnd), 1 << 40, nil},
		{"lsh 64", code(k(1), k(64), opLsh, opEnd), 0, nil},
		{"rsh_signed", code(k64(neg2), k(1), opRshSigned, opEnd), math.MaxUint64, nil},
		{"rsh_unsigned", code(k64(neg2), k(1), opRshUnsigned, opEnd), math.MaxUint64 >> 1, nil},
		{"log_not 0", code(k(0), opLogNot, opEnd), 1, nil},
		{"log_not 5", code(k(5), opLogNot, opEnd), 0, nil},
		{"bit_and", code(k(0xc), k(0xa), opBitAnd, opEnd), 8, nil},
		{"bit_or", code(k(0xc), k(0xa), opBitOr, opEnd), 0xe, nil},
		{"bit_xor", code(k(0xc), k(0xa), opBitXor, opEnd), 6, nil},
		{"bit_not", code(k(0), opBitNot, opEnd), math.MaxUint64, nil},
		{"equal", code(k(3), k(3), opEqual, opEnd), 1, nil},
		{"less_signed", code(k(0xff), opExt, 8, k(1), opLessSigned, opEnd), 1, nil},
		{"less_unsigned", code(k(0xff), opExt, 8, k(1), opLessUnsigned, opEnd), 0, nil},
		{"ext 8", code(k(0x80), opExt, 8, opEnd), math.MaxUint64 - 0x7f, nil},
		{"ext 64", code(k64(neg2), opExt, 64, opEnd), neg2, nil},
		{"ext 200", code(k(0x80), opExt, 200, opEnd), 0x80, nil},
		{"zero_ext 4", code(k(0xff), opZeroExt, 4, opEnd), 0xf, nil},
		{"zero_ext 0", code(k(0xff), opZeroExt, 0, opEnd), 0, nil},
		{"zero_ext 64", code(k64(neg2), opZeroExt, 64, opEnd), neg2, nil},
		{"const16", code(opConst16, u16(0x1234), opEnd), 0x1234, nil},
		{"const32", code(opConst32, u32(0x12345678), opEnd), 0x12345678, nil},
		{"const64", code(k64(0x0102030405060708), opEnd), 0x0102030405060708, nil},
		{"ref8", code(k64(globals+0x28), opRef8, opEnd), 200, nil},
		{"ref16", code(k64(globals+0x2a), opRef16, opEnd), 0xfffd, nil},
		{"ref32", code(k64(addrG), opRef32, opEnd), 5, nil},
		{"ref64", code(k64(globals+0x40), opRef64, opEnd), addrG, nil},
		{"ref64 across blocks", code(k64(globals+0x3c), opRef64, opEnd), (addrG & 0xffffffff) << 32, nil},
		{"ref unmapped", code(k64(0x1000), opRef8, opEnd), 0, errFault},
		{"ref partly mapped", code(k64(rodata+5), opRef32, opEnd), 0, errFault},
		{"reg", code(opReg, u16(regRIP), opEnd), 0x555555555140, nil},
		{"reg unknown", code(opReg, u16(200), opEnd), 0, nil},
		{"dup", code(k(4), opDup, opAdd, opEnd), 8, nil},
		{"pop", code(k(4), k(5), opPop, opEnd), 4, nil},
		{"swap", code(k(4), k(5), opSwap, opSub, opEnd), 1, nil},
		{"pick 0", code(k(4), k(5), opPick, 0, opEnd), 5, nil},
		{"pick 1", code(k(4), k(5), opPick, 1, opEnd), 4, nil},
		{"if_goto taken", code(k(1), opIfGoto, u16(8), k(7), opEnd, k(9), opEnd), 9, nil},
		{"if_goto not taken", code(k(0), opIfGoto, u16(8), k(7), opEnd, k(9), opEnd), 7, nil},
		{"goto", code(opGoto, u16(6), k(7), opEnd, k(9), opEnd), 9, nil},
		{"getv", code(opGetv, u16(3), opEnd), 33, nil},
		{"setv", code(k(4), opSetv, u16(5), opPop, opGetv, u16(5), opEnd), 4, nil},
		{"getv undefined", code(opGetv, u16(4), opEnd), 0, nil},
		{"trace", code(k(1), k64(addrG), k(4), opTrace, opEnd), 1, nil},
		{"trace_quick", code(k64(addrG), opTraceQuick, 4, opEnd), addrG, nil},
		{"trace16", code(k64(addrG), opTrace16, u16(4), opEnd), addrG, nil},
		{"tracev", code(k(1), opTracev, u16(3), opEnd), 1, nil},
		{"tracenz", code(k(1), k64(addrMsg), k(8), opTracenz, opEnd), 1, nil},
		{"empty stack", code(opEnd), 0, ErrNoValue},
		{"loop", code(opGoto, u16(0)), 0, ErrBudget},
	} {
		p, err := Compile(c.code)
		require.NoError(t, err, c.name)
		e := newProcess()
		e.vars = map[int]uint64{3: 33}
		got, err := p.Eval(e.env())
		switch {
		case c.err != nil:
			require.ErrorIs(t, err, c.err, c.name)
		case c.name == "reg unknown" || c.name == "getv undefined":
			require.Error(t, err, c.name)
		default:
			require.NoError(t, err, c.name)
			require.Equal(t, c.want, got, "%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

// TestRot checks rot's order against the manual: a b c => c a b.
func TestRot(t *testing.T) {
	p, err := Compile(code(opConst8, 1, opConst8, 2, opConst8, 3, opRot, opEnd))
	require.NoError(t, err)
	s, err := p.run(Env{})
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 1, 2}, s)
}

// TestEnvMissing: an Env without what an instruction needs fails the run
// cleanly.
func TestEnvMissing(t *testing.T) {
	for _, c := range [][]byte{
		code(opConst8, 1, opRef8, opEnd),
		code(opReg, 0, 0, opEnd),
		code(opGetv, 0, 1, opEnd),
		code(opConst8, 0, opConst8, 0, opPrintf, 0, 0, 1, 0, opEnd),
	} {
		p, err := Compile(c)
		require.NoError(t, err, "% x", c)
		_, err = p.Eval(Env{})
		require.ErrorIs(t, err, ErrNoEnv, "% x", c)
	}
}

func TestErrorsNameTheInstruction(t *testing.T) {
	p, err := Compile(code(opConst8, 1, opConst8, 0, opDivUnsigned, opEnd))
	require.NoError(t, err)
	_, err = p.Eval(Env{})
	require.EqualError(t, err, "offset 4: div_unsigned: division by zero")
	require.True(t, errors.Is(err, ErrDivideByZero))
}

// BenchmarkEval: one typical condition (x == 1 && g > 2: a local and a
// global), including its two reads of the process.
func BenchmarkEval(b *testing.B) {
	p, err := Compile(unhex(b, gdbConditions[0].hex))
	require.NoError(b, err)
	env := newProcess().env()
	for b.Loop() {
		if _, err := p.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}
