package agentexpr

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Eval runs p as a condition and returns the value it leaves on top of
// the stack. gdb's conditions leave exactly one; an empty stack is
// ErrNoValue. A breakpoint whose conditions all evaluate to zero does not
// stop; one whose condition fails should be reported, and gdb decides.
func (p *Program) Eval(env Env) (uint64, error) {
	stack, err := p.run(env)
	if err != nil {
		return 0, err
	}
	if len(stack) == 0 {
		return 0, ErrNoValue
	}
	return stack[len(stack)-1], nil
}

// Exec runs p as a breakpoint command, for its effects: printf's text
// goes to env.Out.
func (p *Program) Exec(env Env) error {
	_, err := p.run(env)
	return err
}

// run interprets p and returns the stack at end. Compile has checked
// every depth: no instruction here can find too few values or push past
// the capacity.
func (p *Program) run(env Env) ([]uint64, error) {
	s := make([]uint64, 0, p.maxDepth)
	r := &reader{mem: env.Mem}
	for pc, steps := 0, 0; ; steps++ {
		in := &p.code[pc]
		if steps == MaxSteps {
			return nil, in.errorf(ErrBudget)
		}
		pc++
		n := len(s)
		switch in.op {
		case opAdd:
			s[n-2] += s[n-1]
		case opSub:
			s[n-2] -= s[n-1]
		case opMul:
			s[n-2] *= s[n-1]
		case opDivSigned, opDivUnsigned, opRemSigned, opRemUnsigned:
			if s[n-1] == 0 {
				return nil, in.errorf(ErrDivideByZero)
			}
			s[n-2] = divide(in.op, s[n-2], s[n-1])
		case opLsh:
			s[n-2] <<= s[n-1]
		case opRshSigned:
			s[n-2] = uint64(int64(s[n-2]) >> s[n-1])
		case opRshUnsigned:
			s[n-2] >>= s[n-1]
		case opBitAnd:
			s[n-2] &= s[n-1]
		case opBitOr:
			s[n-2] |= s[n-1]
		case opBitXor:
			s[n-2] ^= s[n-1]
		case opEqual:
			s[n-2] = b2u(s[n-2] == s[n-1])
		case opLessSigned:
			s[n-2] = b2u(int64(s[n-2]) < int64(s[n-1]))
		case opLessUnsigned:
			s[n-2] = b2u(s[n-2] < s[n-1])
		case opLogNot:
			s[n-1] = b2u(s[n-1] == 0)
		case opBitNot:
			s[n-1] = ^s[n-1]
		case opExt:
			// "ext n" with n at or beyond 64 changes nothing.
			if in.arg < 64 {
				shift := 64 - in.arg
				s[n-1] = uint64(int64(s[n-1]<<shift) >> shift)
			}
		case opZeroExt:
			if in.arg < 64 {
				s[n-1] &= 1<<in.arg - 1
			}
		case opRef8, opRef16, opRef32, opRef64:
			var buf [8]byte
			size := 1 << (in.op - opRef8)
			if err := r.read(s[n-1], buf[:size]); err != nil {
				return nil, in.errorf(err)
			}
			s[n-1] = binary.LittleEndian.Uint64(buf[:])
		case opIfGoto:
			if s[n-1] != 0 {
				pc = in.jump
			}
		case opGoto:
			pc = in.jump
		case opConst8, opConst16, opConst32, opConst64:
			s = append(s, in.arg)
		case opReg:
			if env.Regs == nil {
				return nil, in.errorf(ErrNoEnv)
			}
			v, err := env.Regs.Register(int(in.arg))
			if err != nil {
				return nil, in.errorf(err)
			}
			s = append(s, v)
		case opEnd:
			return s, nil
		case opDup:
			s = append(s, s[n-1])
		case opPick:
			s = append(s, s[n-1-int(in.arg)])
		case opSwap:
			s[n-2], s[n-1] = s[n-1], s[n-2]
		case opRot:
			// a b c => c a b
			s[n-3], s[n-2], s[n-1] = s[n-1], s[n-3], s[n-2]
		case opGetv, opSetv:
			v, err := traceVar(env.Vars, in, s)
			if err != nil {
				return nil, in.errorf(err)
			}
			if in.op == opGetv {
				s = append(s, v)
			}
		case opPrintf:
			if err := printf(env.Out, in, s, r); err != nil {
				return nil, in.errorf(err)
			}
		}
		// Every opcode that pops without pushing what it popped ends here,
		// by its table entry: the binary operators and the ones that only
		// pop (pop, if_goto, trace, tracenz, printf).
		if drop := -effect(in.op, in.arg); drop > 0 {
			s = s[:len(s)-drop]
		}
	}
}

// errorf wraps err with the instruction it happened at.
func (in *instr) errorf(err error) error {
	return fmt.Errorf("offset %d: %s: %w", in.off, ops[in.op].name, err)
}

// divide does div and rem, signed and unsigned; b is not zero. Go defines
// the one overflow, MinInt64 / -1, as MinInt64 (remainder 0), as the
// two's-complement machines gdb targets compute it.
func divide(op byte, a, b uint64) uint64 {
	switch op {
	case opDivSigned:
		return uint64(int64(a) / int64(b))
	case opDivUnsigned:
		return a / b
	case opRemSigned:
		return uint64(int64(a) % int64(b))
	}
	return a % b
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// traceVar does getv (returning the variable) and setv (setting it to
// the top of the stack, which stays).
func traceVar(vars TraceVars, in *instr, s []uint64) (uint64, error) {
	if vars == nil {
		return 0, fmt.Errorf("trace state variable %d: %w", in.arg, ErrNoEnv)
	}
	if in.op == opGetv {
		return vars.TraceVar(int(in.arg))
	}
	return 0, vars.SetTraceVar(int(in.arg), s[len(s)-1])
}

// printf formats its arguments (below the function and channel on top of
// the stack, first argument uppermost) and writes the text in one Write.
func printf(out io.Writer, in *instr, s []uint64, r *reader) error {
	if out == nil {
		return fmt.Errorf("output: %w", ErrNoEnv)
	}
	n := len(s)
	args := make([]uint64, in.fmt.nargs)
	for i := range args {
		args[i] = s[n-3-i]
	}
	text, err := in.fmt.print(nil, args, r)
	if err != nil {
		return err
	}
	_, err = out.Write(text)
	return err
}
