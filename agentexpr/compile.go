package agentexpr

import (
	"errors"
	"fmt"
)

// Errors of Compile. Each is wrapped with the offset and opcode at fault.
var (
	// ErrInvalid: the bytes are not a well-formed expression.
	ErrInvalid = errors.New("invalid agent expression")
	// ErrUnsupported: a well-formed expression this agent does not run
	// (floating point, printf directives it cannot format).
	ErrUnsupported = errors.New("unsupported agent expression")
)

// Limits on every program, so that any bytecode ends quickly and in
// bounded memory: gdb's conditions need a handful of stack slots and a
// few dozen steps.
const (
	// MaxDepth is the deepest stack a program may build; Compile refuses
	// deeper ones. It leaves room for printf's 255 arguments.
	MaxDepth = 1024
	// MaxSteps is how many instructions one run may execute; a run that
	// goes on (a loop) fails with ErrBudget.
	MaxSteps = 1 << 16
)

// Program is a decoded and verified agent expression. It is immutable:
// one Program may run any number of times, from any goroutine.
type Program struct {
	code     []instr
	maxDepth int
}

// instr is one decoded instruction.
type instr struct {
	op  byte
	off int // offset in the bytecode, for errors
	// arg is the operand: a constant, register, variable number, bit
	// count, size or argument count.
	arg  uint64
	jump int     // goto, if_goto: index of the target instruction
	fmt  *format // printf
}

// Compile decodes bytecode and checks, before anything runs, that every
// opcode is known and complete, that jumps land on instructions, and that
// the stack can neither underflow nor exceed MaxDepth on any path: every
// instruction must be reached with the same stack depth whichever way
// control gets there (gdb's own checker, ax_reqs, demands the same of
// what gdb emits), and no path may run off the end without an end
// opcode.
func Compile(bytecode []byte) (*Program, error) {
	if len(bytecode) == 0 {
		return nil, fmt.Errorf("empty expression: %w", ErrInvalid)
	}
	code, err := decode(bytecode)
	if err != nil {
		return nil, err
	}
	depth, err := verify(code)
	if err != nil {
		return nil, err
	}
	return &Program{code: code, maxDepth: depth}, nil
}

// decode splits bytecode into instructions and resolves jump targets.
func decode(b []byte) ([]instr, error) {
	var code []instr
	index := make(map[int]int) // offset -> instruction index
	for off := 0; off < len(b); {
		op := b[off]
		info := ops[op]
		switch {
		case info.name == "":
			return nil, fmt.Errorf("offset %d: opcode %#02x: %w", off, op, ErrInvalid)
		case info.float:
			return nil, fmt.Errorf("offset %d: %s: floating point: %w", off, info.name, ErrUnsupported)
		}
		in := instr{op: op, off: off}
		size := 1 + info.operand
		if op == opPrintf {
			n, f, err := decodePrintf(b[off+1:])
			if err != nil {
				return nil, fmt.Errorf("offset %d: printf: %w", off, err)
			}
			in.arg, in.fmt = uint64(f.nargs), f
			size += n
		} else {
			if off+size > len(b) {
				return nil, fmt.Errorf("offset %d: %s: truncated operand: %w", off, info.name, ErrInvalid)
			}
			for _, c := range b[off+1 : off+size] {
				in.arg = in.arg<<8 | uint64(c)
			}
		}
		index[off] = len(code)
		code = append(code, in)
		off += size
	}
	for i := range code {
		in := &code[i]
		if in.op != opGoto && in.op != opIfGoto {
			continue
		}
		j, ok := index[int(in.arg)]
		if !ok {
			return nil, fmt.Errorf("offset %d: %s to %d, not an instruction: %w",
				in.off, ops[in.op].name, in.arg, ErrInvalid)
		}
		in.jump = j
	}
	return code, nil
}

// verify walks every path through code and returns the deepest stack one
// can build.
func verify(code []instr) (int, error) {
	depth := make([]int, len(code)) // stack depth on entry; -1: not reached yet
	for i := range depth {
		depth[i] = -1
	}
	depth[0] = 0
	work := []int{0}
	deepest := 0
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		in := code[i]
		name := ops[in.op].name
		d := depth[i]
		if n := need(in.op, in.arg); d < n {
			return 0, fmt.Errorf("offset %d: %s needs %d values, the stack has %d: %w", in.off, name, n, d, ErrInvalid)
		}
		d += effect(in.op, in.arg)
		if d > MaxDepth {
			return 0, fmt.Errorf("offset %d: %s: stack deeper than %d: %w", in.off, name, MaxDepth, ErrInvalid)
		}
		deepest = max(deepest, d)
		var next []int
		switch in.op {
		case opEnd:
		case opGoto:
			next = []int{in.jump}
		case opIfGoto:
			next = []int{i + 1, in.jump}
		default:
			next = []int{i + 1}
		}
		for _, j := range next {
			switch {
			case j == len(code):
				return 0, fmt.Errorf("offset %d: %s: runs past the end: %w", in.off, name, ErrInvalid)
			case depth[j] < 0:
				depth[j] = d
				work = append(work, j)
			case depth[j] != d:
				return 0, fmt.Errorf("offset %d: reached with %d and %d values on the stack: %w",
					code[j].off, depth[j], d, ErrInvalid)
			}
		}
	}
	return deepest, nil
}
