// Package agentexpr runs gdb's agent expressions: the bytecode gdb sends
// with a breakpoint for the stub to evaluate itself, as conditions
// (`set breakpoint condition-evaluation target`: "Z0,ADDR,1;X LEN,BYTES")
// and as commands (`dprintf` with `set dprintf-style agent`:
// ";cmds:PERSIST,X LEN,BYTES"). The reference is the gdb manual, appendix
// "Agent Expressions"; gdb's compiler (ax-gdb.c) and gdbserver's
// interpreter (ax.cc) settle what the manual leaves open.
//
// Compile decodes and verifies bytecode once, when the breakpoint is
// inserted: unknown opcodes, truncated operands, stray jumps, stack
// underflow and bad printf formats are refused there. A Program then runs
// against an Env: Eval for a condition (the value left on the stack),
// Exec for commands (for their printf output). Runs are bounded by
// MaxSteps and MaxDepth; a fault (unreadable memory, division by zero,
// the budget spent) is an error, on which the caller reports the stop and
// lets gdb decide.
//
// Values are 64-bit integers. gdb emits no floating point for agents
// (it refuses floating-point expressions); the floating-point opcodes
// are refused. There are no trace frames here: the trace opcodes keep
// their stack effects and record nothing.
package agentexpr

import (
	"errors"
	"io"
)

// Memory is the address space an expression reads.
type Memory interface {
	// ReadMemory reads len(dst) bytes at addr and returns how many it
	// read; fewer than asked means the rest is unreadable.
	ReadMemory(addr uint64, dst []byte) (int, error)
}

// Registers are those of the thread that hit the breakpoint.
type Registers interface {
	// Register returns register num, numbered as gdb numbers them in the
	// target description (rax 0, ..., rip 16 on x86-64), zero-extended;
	// an error for an unknown register or one wider than 64 bits.
	Register(num int) (uint64, error)
}

// TraceVars are gdb's trace state variables ($name, defined with
// tvariable), for getv and setv.
type TraceVars interface {
	TraceVar(num int) (uint64, error)
	SetTraceVar(num int, v uint64) error
}

// Env is what a running expression reads and writes. Any field may be
// nil; an instruction that needs it then fails.
type Env struct {
	Mem  Memory
	Regs Registers
	Vars TraceVars
	// Out receives printf's text, one Write per printf.
	Out io.Writer
}

// Errors of a run, each wrapped with the instruction's offset and name.
var (
	ErrUnreadable   = errors.New("memory unreadable")
	ErrDivideByZero = errors.New("division by zero")
	ErrBudget       = errors.New("too many steps")
	// ErrNoValue: Eval ended with an empty stack.
	ErrNoValue = errors.New("no value left on the stack")
	// ErrNoEnv: the Env lacks what an instruction needs.
	ErrNoEnv = errors.New("not available")
)
