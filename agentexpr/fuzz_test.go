package agentexpr

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// errNoSuch is the fuzz environment's error for registers and variables.
var errNoSuch = errors.New("no such register or variable")

// fuzzEnv maps the fuzzed bytes at a fixed address and answers registers
// and trace state variables from them, so that expressions can find
// both valid and invalid addresses.
type fuzzEnv struct {
	data  []byte
	reads int
}

const fuzzBase = 0x1000

func (e *fuzzEnv) ReadMemory(addr uint64, dst []byte) (int, error) {
	e.reads++
	if addr < fuzzBase || addr-fuzzBase >= uint64(len(e.data)) {
		return 0, errFault
	}
	n := copy(dst, e.data[addr-fuzzBase:])
	if n < len(dst) {
		return n, errFault
	}
	return n, nil
}

func (e *fuzzEnv) Register(num int) (uint64, error) {
	if num >= 32 {
		return 0, errNoSuch
	}
	if num == 0 {
		return fuzzBase, nil // a valid address
	}
	var b [8]byte
	copy(b[:], e.data[min(num, len(e.data)):])
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (e *fuzzEnv) TraceVar(num int) (uint64, error) {
	if num%2 == 1 {
		return 0, errNoSuch
	}
	return uint64(num), nil
}

func (e *fuzzEnv) SetTraceVar(num int, v uint64) error { return nil }

// runErrors are the errors a compiled program may end with.
var runErrors = []error{ErrUnreadable, ErrDivideByZero, ErrBudget, ErrNoValue, errFault, errNoSuch}

func isRunError(err error) bool {
	for _, e := range runErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzCompile: Compile never panics and refuses with ErrInvalid or
// ErrUnsupported; what it accepts runs without panicking, ends within
// MaxSteps, and fails only with a run error.
func FuzzCompile(f *testing.F) {
	for _, c := range gdbConditions {
		f.Add(unhex(f, c.hex))
	}
	f.Add(unhex(f, "26000622100222dc1608021916202200220034010007612025645c6e0027"))
	f.Add(code(opConst8, 2, opConst8, 1, opConst8, 0, opConst8, 0, opPrintf, 2, 0, 8, "%d + %s", 0, opEnd))
	f.Add(code(opReg, 0, 0, opDup, opRef8, opSwap, opConst8, 1, opAdd, opRot, opPick, 1, opEnd))
	f.Add(code(opGoto, 0, 0))
	f.Add(code(opConst8, 1, opGetv, 0, 2, opSetv, 0, 3, opIfGoto, 0, 0, opEnd))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Compile(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Compile(% x): %v", b, err)
			}
			return
		}
		if p.maxDepth > MaxDepth {
			t.Fatalf("Compile(% x): depth %d", b, p.maxDepth)
		}
		e := &fuzzEnv{data: b}
		env := Env{Mem: e, Regs: e, Vars: e, Out: io.Discard}
		if _, err := p.Eval(env); err != nil && !isRunError(err) {
			t.Fatalf("Eval(% x): %v", b, err)
		}
		if err := p.Exec(env); err != nil && !isRunError(err) && !errors.Is(err, ErrNoValue) {
			t.Fatalf("Exec(% x): %v", b, err)
		}
		// Each step reads memory at most twice (a block, then the exact
		// bytes), and %s a bounded string per argument.
		if e.reads > 2*MaxSteps*(maxString/blockSize+2) {
			t.Fatalf("% x: %d reads", b, e.reads)
		}
	})
}

// FuzzPrintf: a format either parses or is refused; what parses prints
// any arguments without panicking, reading strings from the fuzzed bytes.
func FuzzPrintf(f *testing.F) {
	f.Add([]byte(`x=%d g=%u s=%s l=%ld c=%c p=%p h=%#x o=%o %lld %lu %5d|%-4x|%%\n`), []byte("\x10\x00\x00\x00hello\x00"))
	f.Add([]byte(`[%+d][% 05d][%#-8o|][%.0d][%hd][%zu][%10p][%.2s]`), []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, format, data []byte) {
		p, err := parseFormat(format)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("parseFormat(%q): %v", format, err)
			}
			return
		}
		args := make([]uint64, p.nargs)
		for i := range args {
			var b [8]byte
			copy(b[:], data[min(i, len(data)):])
			args[i] = binary.LittleEndian.Uint64(b[:])
			if i%2 == 0 {
				args[i] = fuzzBase + args[i]%16 // a string, perhaps
			}
		}
		out, err := p.print(nil, args, &reader{mem: &fuzzEnv{data: data}})
		if err != nil && !isRunError(err) {
			t.Fatalf("print(%q): %v", format, err)
		}
		if limit := len(format) + p.nargs*(maxField+maxString+24); len(out) > limit {
			t.Fatalf("print(%q): %d bytes", format, len(out))
		}
	})
}
