package agentexpr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// These tests run AppendNative's code in the test process and compare
// its answer with Eval's.
//
// The code is called from Go through a trampoline, hand-written machine
// code placed right before it in an executable mapping. Go calls a func
// value through the pointer it holds to a word holding the entry address
// (the funcval), with its register ABI (ABIInternal): integer arguments
// in RAX, RBX, RCX, ..., results in RAX, RBX, RCX, ...; RSP, RBP (the
// frame pointer) and R14 (the current goroutine, g) must survive the
// call, R15 too in dynamically linked code; X15 must stay zero, and the
// code touches no vector register. The trampoline is called as
//
//	func(code, block, stack uintptr) (rax, rbx, rsp uintptr)
//
// It saves RSP, RBP and R12 to R15 in the six slots below the block (the
// one thing the code keeps is RBX), switches to a private stack (a
// goroutine's stack is small and the runtime moves it; foreign code must
// not push on it), calls the code, which falls through to a ret appended
// after it, and restores Go's registers. It returns the code's RAX, its
// RBX and its RSP after the call, for the test to check that the code
// kept both. Go's signal handlers run on their own stack, and the
// runtime does not preempt code it does not know, so signals are safe
// meanwhile. The block and the stack are in an mmap'd mapping, not in Go
// memory, so that no garbage collection or stack move can change the
// addresses passed as uintptr.
var trampoline = []byte{
	0x48, 0x89, 0x63, 0xf8, // mov [rbx-8], rsp
	0x48, 0x89, 0x6b, 0xf0, // mov [rbx-16], rbp
	0x4c, 0x89, 0x63, 0xe8, // mov [rbx-24], r12
	0x4c, 0x89, 0x6b, 0xe0, // mov [rbx-32], r13
	0x4c, 0x89, 0x73, 0xd8, // mov [rbx-40], r14
	0x4c, 0x89, 0x7b, 0xd0, // mov [rbx-48], r15
	0x48, 0x89, 0xcc, // mov rsp, rcx
	0xff, 0xd0, // call rax
	0x48, 0x89, 0xe1, // mov rcx, rsp
	0x48, 0x8b, 0x63, 0xf8, // mov rsp, [rbx-8]
	0x48, 0x8b, 0x6b, 0xf0, // mov rbp, [rbx-16]
	0x4c, 0x8b, 0x63, 0xe8, // mov r12, [rbx-24]
	0x4c, 0x8b, 0x6b, 0xe0, // mov r13, [rbx-32]
	0x4c, 0x8b, 0x73, 0xd8, // mov r14, [rbx-40]
	0x4c, 0x8b, 0x7b, 0xd0, // mov r15, [rbx-48]
	0xc3, // ret
}

// The layout of a machine's data mapping.
const (
	pageSize   = 4096
	stackTop   = 2*pageSize - 64 // the private stack's top, 64 guard bytes above
	saveOff    = 2 * pageSize    // the trampoline's six slots
	blockOff   = saveOff + 48    // the register block
	windowOff  = 3 * pageSize    // memory for ref8 to ref64
	windowSize = pageSize
	dataSize   = 4 * pageSize
	stackFill  = 0xa5 // what the stack holds where the code must not write
)

// machine runs native code: a data mapping holds its private stack, the
// register block and a window of memory for it to read.
type machine struct {
	data []byte
}

func newMachine(t testing.TB) *machine {
	data, err := unix.Mmap(-1, 0, dataSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Munmap(data) })
	return &machine{data: data}
}

// window is the memory refs may read; base is its address.
func (m *machine) window() []byte { return m.data[windowOff : windowOff+windowSize] }
func (m *machine) base() uint64   { return m.addr(windowOff) }

func (m *machine) addr(off int) uint64 { return uint64(uintptr(unsafe.Pointer(&m.data[off]))) }

// ReadMemory lets Eval read the window, as the native code does.
func (m *machine) ReadMemory(addr uint64, dst []byte) (int, error) {
	b := m.base()
	if addr < b || addr-b >= windowSize {
		return 0, errFault
	}
	n := copy(dst, m.window()[addr-b:])
	if n < len(dst) {
		return n, errFault
	}
	return n, nil
}

// nativeRegs are a block's registers, for Eval.
type nativeRegs [NativeRegisters]uint64

func (r *nativeRegs) Register(num int) (uint64, error) {
	if num >= len(r) {
		return 0, fmt.Errorf("register %d: unknown", num)
	}
	return r[num], nil
}

// eval is what Eval says of conds: stop or not, as the native code must.
func (m *machine) eval(conds []*Program, regs *nativeRegs) (bool, error) {
	for _, p := range conds {
		v, err := p.Eval(Env{Mem: m, Regs: regs})
		if err != nil || v != 0 {
			return true, err
		}
	}
	return len(conds) == 0, nil
}

// run compiles conds with AppendNative, runs the code on regs and
// returns its RAX, checking the ABI: RBX and RSP kept, the block not
// written, the stack used no deeper than NativeStackBytes.
func (m *machine) run(t testing.TB, conds []*Program, regs *nativeRegs) (uint64, error) {
	t.Helper()
	text, err := AppendNative(bytes.Clone(trampoline), conds)
	if err != nil {
		return 0, err
	}
	text = append(text, 0xc3) // ret
	size := (len(text) + pageSize - 1) &^ (pageSize - 1)
	exec, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	defer unix.Munmap(exec)
	copy(exec, text)
	require.NoError(t, unix.Mprotect(exec, unix.PROT_READ|unix.PROT_EXEC))

	stack := m.data[:saveOff]
	for i := range stack {
		stack[i] = stackFill
	}
	block := m.data[blockOff : blockOff+8*NativeRegisters]
	for i, v := range regs {
		binary.LittleEndian.PutUint64(block[8*i:], v)
	}
	want := bytes.Clone(block)

	entry := uintptr(unsafe.Pointer(&exec[0]))
	funcval := &entry
	call := *(*func(code, block, stack uintptr) (rax, rbx, rsp uintptr))(unsafe.Pointer(&funcval))
	rax, rbx, rsp := call(entry+uintptr(len(trampoline)), uintptr(m.addr(blockOff)), uintptr(m.addr(stackTop)))

	require.Equal(t, m.addr(blockOff), uint64(rbx), "RBX kept")
	require.Equal(t, m.addr(stackTop), uint64(rsp), "RSP back")
	require.Equal(t, want, block, "block not written")
	entrySP := stackTop - 8 // below the return address the call pushed
	untouched := bytes.Repeat([]byte{stackFill}, len(stack))
	require.Equal(t, untouched[:entrySP-NativeStackBytes], stack[:entrySP-NativeStackBytes], "stack bound")
	require.Equal(t, untouched[stackTop:], stack[stackTop:], "above the stack")
	return uint64(rax), nil
}

// check runs conds both ways and fails unless they agree. When Eval
// spends its budget the native code, which counts backward jumps only,
// may finish instead: then it is only required to end.
func (m *machine) check(t testing.TB, conds []*Program, regs *nativeRegs, what string) {
	t.Helper()
	stop, evalErr := m.eval(conds, regs)
	got, err := m.run(t, conds, regs)
	require.NoError(t, err, what)
	require.Contains(t, []uint64{0, 1}, got, what)
	if errors.Is(evalErr, ErrBudget) && got == 0 {
		return
	}
	require.Equal(t, b2u(stop), got, "%s: Eval %v, %v", what, stop, evalErr)
}

func compileAll(t testing.TB, conds ...[]byte) []*Program {
	t.Helper()
	var progs []*Program
	for _, b := range conds {
		p, err := Compile(b)
		require.NoError(t, err, "% x", b)
		progs = append(progs, p)
	}
	return progs
}

// value checks that expr, bytecode that leaves one value and has no
// end, evaluates to want both ways, bit for bit: Eval returns want, and
// the native code finds expr ^ want zero (and stops on expr alone iff
// want is not zero).
func (m *machine) value(t *testing.T, name string, expr []byte, want uint64, regs *nativeRegs) {
	t.Helper()
	p := compileAll(t, code(expr, opEnd))
	got, err := p[0].Eval(Env{Mem: m, Regs: regs})
	require.NoError(t, err, name)
	require.Equal(t, want, got, "%s: Eval %#x, want %#x", name, got, want)
	stop, err := m.run(t, p, regs)
	require.NoError(t, err, name)
	require.Equal(t, b2u(want != 0), stop, name)
	stop, err = m.run(t, compileAll(t, code(expr, lit(want), opBitXor, opEnd)), regs)
	require.NoError(t, err, name)
	require.Zero(t, stop, "%s: native value is not %#x", name, want)
}

// TestNativeOpcodes: every compiled opcode, with its edge cases.
func TestNativeOpcodes(t *testing.T) {
	m := newMachine(t)
	const minInt = 1 << 63
	const neg1 = math.MaxUint64
	win := m.window()
	copy(win, []byte{0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89})
	b := m.base()
	k := func(v uint8) []byte { return code(opConst8, int(v)) }
	for _, c := range []struct {
		name string
		expr []byte
		want uint64
	}{
		{"add", code(k(2), lit(neg1), opAdd), 1},
		{"sub", code(k(2), k(3), opSub), neg1},
		{"mul", code(lit(1<<32+3), lit(1<<32+5), opMul), 8<<32 + 15},
		{"div_signed", code(lit(-7&neg1), k(2), opDivSigned), -3 & neg1},
		{"div_signed MinInt64/-1", code(lit(minInt), lit(neg1), opDivSigned), minInt},
		{"div_signed x/-1", code(k(5), lit(neg1), opDivSigned), -5 & neg1},
		{"div_unsigned", code(lit(neg1), k(2), opDivUnsigned), neg1 / 2},
		{"rem_signed", code(lit(-7&neg1), k(3), opRemSigned), neg1},
		{"rem_signed MinInt64%-1", code(lit(minInt), lit(neg1), opRemSigned), 0},
		{"rem_unsigned", code(lit(neg1), k(7), opRemUnsigned), neg1 % 7},
		{"lsh 0", code(k(5), k(0), opLsh), 5},
		{"lsh 63", code(k(3), k(63), opLsh), minInt},
		{"lsh 64", code(k(1), k(64), opLsh), 0},
		{"lsh 200", code(k(1), k(200), opLsh), 0},
		{"lsh 2^63", code(k(1), lit(minInt), opLsh), 0},
		{"rsh_signed 0", code(lit(minInt), k(0), opRshSigned), minInt},
		{"rsh_signed 63", code(lit(minInt), k(63), opRshSigned), neg1},
		{"rsh_signed 64", code(lit(minInt), k(64), opRshSigned), neg1},
		{"rsh_signed 200 positive", code(lit(math.MaxInt64), k(200), opRshSigned), 0},
		{"rsh_signed 2^63+1", code(lit(minInt), lit(minInt+1), opRshSigned), neg1},
		{"rsh_unsigned 63", code(lit(neg1), k(63), opRshUnsigned), 1},
		{"rsh_unsigned 64", code(lit(neg1), k(64), opRshUnsigned), 0},
		{"rsh_unsigned 200", code(lit(neg1), k(200), opRshUnsigned), 0},
		{"log_not 0", code(k(0), opLogNot), 1},
		{"log_not high bit", code(lit(minInt), opLogNot), 0},
		{"bit_and", code(k(0xc), k(0xa), opBitAnd), 8},
		{"bit_or", code(k(0xc), k(0xa), opBitOr), 0xe},
		{"bit_xor", code(k(0xc), k(0xa), opBitXor), 6},
		{"bit_not", code(k(0), opBitNot), neg1},
		{"equal", code(lit(minInt), lit(minInt), opEqual), 1},
		{"equal not", code(k(1), k(2), opEqual), 0},
		{"less_signed", code(lit(neg1), k(1), opLessSigned), 1},
		{"less_signed equal", code(k(1), k(1), opLessSigned), 0},
		{"less_unsigned", code(lit(neg1), k(1), opLessUnsigned), 0},
		{"less_unsigned true", code(k(1), lit(neg1), opLessUnsigned), 1},
		{"ext 0", code(k(0xff), opExt, 0), 0},
		{"ext 1", code(k(1), opExt, 1), neg1},
		{"ext 8", code(k(0x80), opExt, 8), neg1 - 0x7f},
		{"ext 63", code(lit(1<<62), opExt, 63), 0xc000_0000_0000_0000},
		{"ext 64", code(k(0x80), opExt, 64), 0x80},
		{"ext 255", code(k(0x80), opExt, 255), 0x80},
		{"zero_ext 0", code(lit(neg1), opZeroExt, 0), 0},
		{"zero_ext 1", code(lit(neg1), opZeroExt, 1), 1},
		{"zero_ext 32", code(lit(neg1), opZeroExt, 32), math.MaxUint32},
		{"zero_ext 63", code(lit(neg1), opZeroExt, 63), math.MaxInt64},
		{"zero_ext 64", code(lit(neg1), opZeroExt, 64), neg1},
		{"ref8", code(lit(b), opRef8), 0x81},
		{"ref16", code(lit(b+1), opRef16), 0x8382},
		{"ref32", code(lit(b+3), opRef32), 0x87868584},
		{"ref64", code(lit(b+1), opRef64), 0x8988878685848382},
		{"const8", k(0xff), 0xff},
		{"const16", code(opConst16, u16(0xfffe)), 0xfffe},
		{"const32 high bit", code(opConst32, u32(0x80000000)), 0x80000000},
		{"const32 small", code(opConst32, u32(5)), 5},
		{"const64", lit(0x0102030405060708), 0x0102030405060708},
		{"const64 -1", lit(neg1), neg1},
		{"dup", code(k(4), opDup, opAdd), 8},
		{"pop", code(k(4), k(5), opPop), 4},
		{"swap", code(k(4), k(5), opSwap, opSub), 1},
		{"pick 0", code(k(4), k(5), opPick, 0, opSub), 0},
		{"pick 2", code(k(7), k(4), k(5), opPick, 2, opMul, opAdd, opAdd), 7 + 4 + 35},
		// a b c => c a b, read back as c*100 + a*10 + b
		{"rot", code(k(1), k(2), k(3), opRot, k(1), opMul, opSwap, k(10), opMul, opAdd, opSwap,
			k(100), opMul, opAdd), 312},
		{"trace", code(k(1), k(2), k(3), opTrace), 1},
		{"tracenz", code(k(1), k(2), k(3), opTracenz), 1},
		{"trace_quick", code(k(6), opTraceQuick, 4), 6},
		{"trace16", code(k(6), opTrace16, u16(4)), 6},
		{"tracev", code(k(6), opTracev, u16(4)), 6},
		// if_goto at 2 to 8 (k 9), else k 7 and goto 10 (past k 9).
		{"if_goto taken", code(k(1), opIfGoto, u16(10), k(7), opGoto, u16(12), k(9)), 9},
		{"if_goto not taken", code(k(0), opIfGoto, u16(10), k(7), opGoto, u16(12), k(9)), 7},
		{"if_goto high bit", code(lit(minInt), opIfGoto, u16(17), k(7), opGoto, u16(19), k(9)), 9},
		// n = 1000; do n-- while n; n+5
		{"loop", code(opConst16, u16(1000), k(1), opSub, opDup, opIfGoto, u16(3), k(5), opAdd), 5},
	} {
		m.value(t, c.name, c.expr, c.want, &nativeRegs{})
	}
}

// TestNativeRegisters: reg n reads slot n of the block.
func TestNativeRegisters(t *testing.T) {
	m := newMachine(t)
	var regs nativeRegs
	for i := range regs {
		regs[i] = uint64(i+1)*0x0101010101010101 ^ 1<<63
	}
	for i := range regs {
		m.value(t, fmt.Sprintf("reg %d", i), code(opReg, u16(uint16(i))), regs[i], &regs)
	}
}

// TestNativeOperators compares the operators with Eval on every pair of
// values that matter to them, bit for bit.
func TestNativeOperators(t *testing.T) {
	m := newMachine(t)
	values := []uint64{0, 1, 2, 3, 7, 31, 32, 63, 64, 65, 200, 0x80, 0xff, 1 << 31, 1 << 32,
		math.MaxInt64, 1 << 63, 1<<63 + 1, math.MaxUint64, math.MaxUint64 - 1, 0x0123456789abcdef}
	lits := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = append(b, lit(v)...)
		}
		return b
	}
	var cases [][]byte
	for _, op := range []byte{opAdd, opSub, opMul, opDivSigned, opDivUnsigned, opRemSigned, opRemUnsigned,
		opLsh, opRshSigned, opRshUnsigned, opBitAnd, opBitOr, opBitXor, opEqual, opLessSigned, opLessUnsigned} {
		for _, x := range values {
			for _, y := range values {
				cases = append(cases, code(lits(x, y), int(op)))
			}
		}
	}
	for _, x := range values {
		cases = append(cases, code(lit(x), opLogNot), code(lit(x), opBitNot))
		for _, n := range []byte{0, 1, 7, 8, 15, 16, 31, 32, 33, 62, 63, 64, 65, 128, 255} {
			cases = append(cases, code(lit(x), opExt, int(n)), code(lit(x), opZeroExt, int(n)))
		}
	}
	for _, expr := range cases {
		p := compileAll(t, code(expr, opEnd))
		want, err := p[0].Eval(Env{})
		if err != nil {
			require.ErrorIs(t, err, ErrDivideByZero, "% x", expr)
			m.check(t, p, &nativeRegs{}, fmt.Sprintf("% x", expr))
			continue
		}
		stop, err := m.run(t, compileAll(t, code(expr, lit(want), opBitXor, opEnd)), &nativeRegs{})
		require.NoError(t, err)
		require.Zero(t, stop, "% x: native value is not %#x", expr, want)
	}
}

// TestNativeStops: the stop decision, over several conditions and
// failing ones.
func TestNativeStops(t *testing.T) {
	m := newMachine(t)
	var (
		zero    = code(opConst8, 0, opEnd)
		one     = code(opConst8, 1, opEnd)
		divZero = code(opConst8, 1, opConst8, 0, opDivSigned, opEnd)
		remZero = code(opConst8, 1, opConst8, 0, opRemUnsigned, opEnd)
		empty   = code(opEnd)
		emptied = code(opConst8, 1, opPop, opEnd)
		forever = code(opGoto, u16(0))
		// n = 0; do n++ while true, with a value on the stack.
		spin = code(opConst8, 0, opConst8, 1, opAdd, opConst8, 1, opIfGoto, u16(2), opEnd)
		// A loop of MaxSteps/4 iterations (4 instructions each) finishes.
		long = code(opConst32, u32(MaxSteps/4-1), opConst8, 1, opSub, opDup, opIfGoto, u16(5), opEnd)
	)
	for _, c := range []struct {
		name  string
		conds [][]byte
		want  uint64
	}{
		{"none", nil, 1},
		{"zero", [][]byte{zero}, 0},
		{"one", [][]byte{one}, 1},
		{"zeros", [][]byte{zero, zero, zero}, 0},
		{"last holds", [][]byte{zero, zero, one}, 1},
		{"first holds", [][]byte{one, forever}, 1},
		{"div by zero", [][]byte{divZero}, 1},
		{"rem by zero", [][]byte{remZero}, 1},
		{"div by zero first", [][]byte{divZero, zero}, 1},
		{"div by zero after", [][]byte{zero, divZero}, 1},
		{"empty stack", [][]byte{empty}, 1},
		{"emptied stack", [][]byte{zero, emptied}, 1},
		{"budget", [][]byte{forever}, 1},
		{"budget with a stack", [][]byte{zero, spin}, 1},
		{"long loop", [][]byte{long, long}, 0},
	} {
		got, err := m.run(t, compileAll(t, c.conds...), &nativeRegs{})
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
		m.check(t, compileAll(t, c.conds...), &nativeRegs{}, c.name)
	}
}

// TestNativeBudget: a condition may take MaxSteps-1 backward jumps, not
// one more.
func TestNativeBudget(t *testing.T) {
	m := newMachine(t)
	// n; do n-- while n: n-1 backward jumps, then 0.
	loop := func(n uint32) []byte {
		return code(opConst32, u32(n), opConst8, 1, opSub, opDup, opIfGoto, u16(5), opEnd)
	}
	got, err := m.run(t, compileAll(t, loop(MaxSteps)), &nativeRegs{})
	require.NoError(t, err)
	require.Zero(t, got, "MaxSteps-1 backward jumps")
	got, err = m.run(t, compileAll(t, loop(MaxSteps+1)), &nativeRegs{})
	require.NoError(t, err)
	require.Equal(t, uint64(1), got, "MaxSteps backward jumps")
	// The budget is each condition's own.
	got, err = m.run(t, compileAll(t, loop(MaxSteps), loop(MaxSteps)), &nativeRegs{})
	require.NoError(t, err)
	require.Zero(t, got, "two conditions")
}

// confine returns p with every ref's address taken modulo 1 KiB into
// the window at base, so that any program reads readable memory: Eval
// and the native code can then run it alike. Jumps to a ref land on its
// new prefix.
func confine(p *Program, base uint64) (*Program, error) {
	var out []instr
	at := make([]int, len(p.code)+1) // old index -> new index
	for i, in := range p.code {
		at[i] = len(out)
		if in.op >= opRef8 && in.op <= opRef64 {
			out = append(out,
				instr{op: opConst16, off: in.off, arg: 0x3ff}, instr{op: opBitAnd, off: in.off},
				instr{op: opConst64, off: in.off, arg: base}, instr{op: opAdd, off: in.off})
		}
		out = append(out, in)
	}
	for i := range out {
		if out[i].op == opGoto || out[i].op == opIfGoto {
			out[i].jump = at[out[i].jump]
		}
	}
	depth, err := verify(out)
	if err != nil {
		return nil, err
	}
	return &Program{code: out, maxDepth: depth}, nil
}

// TestNativeGDBConditions: what gdb sends, on the test process's memory
// and registers copied into the window (its frame and globals do not
// overlap there, taken modulo 1 KiB).
func TestNativeGDBConditions(t *testing.T) {
	m := newMachine(t)
	for _, c := range gdbConditions {
		e := newProcess()
		if c.set != nil {
			c.set(e)
		}
		win := m.window()
		clear(win)
		for _, r := range e.regions[:2] {
			for i, b := range r.data {
				win[(r.addr+uint64(i))&0x3ff] = b
			}
		}
		regs := &nativeRegs{regRBP: rbp, regRIP: e.regs[regRIP]}
		p, err := confine(compileAll(t, unhex(t, c.hex))[0], m.base())
		require.NoError(t, err, c.cond)
		v, err := p.Eval(Env{Mem: m, Regs: regs})
		require.NoError(t, err, c.cond)
		require.Equal(t, c.want, v, c.cond)
		m.check(t, []*Program{p}, regs, c.cond)
	}
}

// FuzzNative: whatever AppendNative accepts stops exactly when Eval
// fails or yields non-zero, with refs confined to the window, which and
// the registers hold the fuzzed bytes.
func FuzzNative(f *testing.F) {
	for _, c := range gdbConditions {
		f.Add(unhex(f, c.hex))
	}
	f.Add(allOps)
	f.Add(code(opConst8, 1, opConst8, 0, opDivSigned, opEnd))
	f.Add(code(lit(1<<63), opConst8, 0xff, opExt, 8, opDivSigned, opEnd))
	f.Add(code(opConst8, 1, opConst8, 200, opLsh, opEnd))
	f.Add(code(opReg, u16(7), opConst8, 3, opConst8, 70, opRshSigned, opRot, opPick, 2, opEnd))
	f.Add(code(opConst16, u16(1000), opConst8, 1, opSub, opDup, opIfGoto, u16(3), opEnd))
	f.Add(code(opGoto, u16(0)))
	m := newMachine(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Compile(b)
		if err != nil {
			return
		}
		if p, err = confine(p, m.base()); err != nil {
			return
		}
		var regs nativeRegs
		for i := range regs {
			var v [8]byte
			copy(v[:], b[min(i, len(b)):])
			regs[i] = binary.LittleEndian.Uint64(v[:])
		}
		win := m.window()
		for i := range win {
			win[i] = b[i%len(b)]
		}
		if _, err := AppendNative(nil, []*Program{p}); err != nil {
			require.ErrorIs(t, err, ErrUnsupported)
			return
		}
		m.check(t, []*Program{p}, &regs, fmt.Sprintf("% x", b))
	})
}
