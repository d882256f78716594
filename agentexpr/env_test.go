package agentexpr

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// The test process: the memory and registers of gdb's test program
// (testdata-like C, compiled -O0) stopped in f(int x), as gdb 13 showed
// them. The expressions in the tests are what gdb 13 sent gdbserver for
// conditions and dprintfs on that program.
//
//	int g = 5; long gl = -7; unsigned char uc = 200; short sh = -3;
//	struct s { int a; char b; unsigned bf:3; int sbf:5; } st = {1, 'x', 5, -2};
//	int *gp = &g; const char *msg = "hi";
//	int f(int x) { int y = x * 2; return y + g; }
const (
	rbp      = 0x7fffffffe6b0
	frame    = rbp - 0x30 // the frame's region: x at rbp-20, y at rbp-4
	globals  = 0x555555558000
	rodata   = 0x555555556000
	addrG    = globals + 0x18
	addrMsg  = rodata + 4
	regRBP   = 6
	regRIP   = 16
	frameLen = 0x40
)

// errFault is the fake process's error for unmapped memory.
var errFault = errors.New("EFAULT")

// region is mapped memory.
type region struct {
	addr uint64
	data []byte
}

// fakeEnv is a stopped thread: memory regions, registers, trace state
// variables; it counts memory reads.
type fakeEnv struct {
	regions []region
	regs    map[int]uint64
	vars    map[int]uint64
	reads   int
}

func (e *fakeEnv) ReadMemory(addr uint64, dst []byte) (int, error) {
	e.reads++
	for _, r := range e.regions {
		if addr >= r.addr && addr-r.addr < uint64(len(r.data)) {
			n := copy(dst, r.data[addr-r.addr:])
			if n < len(dst) {
				return n, errFault
			}
			return n, nil
		}
	}
	return 0, errFault
}

func (e *fakeEnv) Register(num int) (uint64, error) {
	v, ok := e.regs[num]
	if !ok {
		return 0, fmt.Errorf("register %d: unknown", num)
	}
	return v, nil
}

func (e *fakeEnv) TraceVar(num int) (uint64, error) {
	v, ok := e.vars[num]
	if !ok {
		return 0, fmt.Errorf("trace state variable %d: undefined", num)
	}
	return v, nil
}

func (e *fakeEnv) SetTraceVar(num int, v uint64) error {
	if e.vars == nil {
		e.vars = map[int]uint64{}
	}
	e.vars[num] = v
	return nil
}

func (e *fakeEnv) env() Env { return Env{Mem: e, Regs: e, Vars: e} }

// store writes v's low size bytes at addr in the region holding it.
func (e *fakeEnv) store(addr uint64, size int, v uint64) {
	for _, r := range e.regions {
		if addr >= r.addr && addr-r.addr+uint64(size) <= uint64(len(r.data)) {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], v)
			copy(r.data[addr-r.addr:], b[:size])
			return
		}
	}
	panic(fmt.Sprintf("store %#x: unmapped", addr))
}

// newProcess returns the test process with x = 1 (and y = 2).
func newProcess() *fakeEnv {
	e := &fakeEnv{
		regions: []region{
			{frame, make([]byte, frameLen)},
			{globals, make([]byte, 0x50)},
			{rodata, []byte("\x01\x00\x02\x00hi\x00")},
		},
		regs: map[int]uint64{regRBP: rbp, regRIP: 0x555555555140},
	}
	e.store(rbp-20, 4, 1)                     // x
	e.store(rbp-4, 4, 2)                      // y (and i, in main's frame)
	e.store(addrG, 4, 5)                      // g
	e.store(globals+0x20, 8, ^uint64(6))      // gl = -7
	e.store(globals+0x28, 1, 200)             // uc
	e.store(globals+0x2a, 2, 0xfffd)          // sh = -3
	e.store(globals+0x30, 8, 0xf578_00000001) // st: a 1, b 'x', bf 5, sbf -2
	e.store(globals+0x40, 8, addrG)           // gp
	e.store(globals+0x48, 8, addrMsg)         // msg
	return e
}

// unhex decodes the hex of a Z packet's expression.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// code assembles test bytecode from opcodes, operand bytes and byte
// slices.
func code(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case rune:
			b = append(b, byte(p))
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		default:
			panic(fmt.Sprintf("code: %T", p))
		}
	}
	return b
}

// u16, u32 and u64 are big-endian operands.
func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
