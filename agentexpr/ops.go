package agentexpr

// The opcodes, numbered as in the gdb manual's "Bytecode Descriptions"
// (gdb keeps the numbers fixed for independent agents such as this one).
const (
	opFloat         = 0x01
	opAdd           = 0x02
	opSub           = 0x03
	opMul           = 0x04
	opDivSigned     = 0x05
	opDivUnsigned   = 0x06
	opRemSigned     = 0x07
	opRemUnsigned   = 0x08
	opLsh           = 0x09
	opRshSigned     = 0x0a
	opRshUnsigned   = 0x0b
	opTrace         = 0x0c
	opTraceQuick    = 0x0d
	opLogNot        = 0x0e
	opBitAnd        = 0x0f
	opBitOr         = 0x10
	opBitXor        = 0x11
	opBitNot        = 0x12
	opEqual         = 0x13
	opLessSigned    = 0x14
	opLessUnsigned  = 0x15
	opExt           = 0x16
	opRef8          = 0x17
	opRef16         = 0x18
	opRef32         = 0x19
	opRef64         = 0x1a
	opRefFloat      = 0x1b
	opRefDouble     = 0x1c
	opRefLongDouble = 0x1d
	opLToD          = 0x1e
	opDToL          = 0x1f
	opIfGoto        = 0x20
	opGoto          = 0x21
	opConst8        = 0x22
	opConst16       = 0x23
	opConst32       = 0x24
	opConst64       = 0x25
	opReg           = 0x26
	opEnd           = 0x27
	opDup           = 0x28
	opPop           = 0x29
	opZeroExt       = 0x2a
	opSwap          = 0x2b
	opGetv          = 0x2c
	opSetv          = 0x2d
	opTracev        = 0x2e
	opTracenz       = 0x2f
	opTrace16       = 0x30
	opPick          = 0x32
	opRot           = 0x33
	opPrintf        = 0x34
)

// opInfo describes an opcode: its operand bytes (big-endian, right after
// the opcode) and its stack effect. pick and printf need more than pop
// says: pick n needs n+1 values, printf n pops n+2 (see need).
type opInfo struct {
	name    string
	operand int
	pop     int
	push    int
	// float marks the floating-point opcodes. gdb never emits them: its
	// compiler refuses floating-point values ("gen_fetch: Unsupported
	// type code `double'"), and the manual says they are not implemented.
	float bool
}

// ops is indexed by opcode; a zero entry is not an opcode (0x00, 0x31 and
// everything above printf).
var ops = [256]opInfo{
	opFloat:         {name: "float", float: true},
	opAdd:           {name: "add", pop: 2, push: 1},
	opSub:           {name: "sub", pop: 2, push: 1},
	opMul:           {name: "mul", pop: 2, push: 1},
	opDivSigned:     {name: "div_signed", pop: 2, push: 1},
	opDivUnsigned:   {name: "div_unsigned", pop: 2, push: 1},
	opRemSigned:     {name: "rem_signed", pop: 2, push: 1},
	opRemUnsigned:   {name: "rem_unsigned", pop: 2, push: 1},
	opLsh:           {name: "lsh", pop: 2, push: 1},
	opRshSigned:     {name: "rsh_signed", pop: 2, push: 1},
	opRshUnsigned:   {name: "rsh_unsigned", pop: 2, push: 1},
	opTrace:         {name: "trace", pop: 2},
	opTraceQuick:    {name: "trace_quick", operand: 1, pop: 1, push: 1},
	opLogNot:        {name: "log_not", pop: 1, push: 1},
	opBitAnd:        {name: "bit_and", pop: 2, push: 1},
	opBitOr:         {name: "bit_or", pop: 2, push: 1},
	opBitXor:        {name: "bit_xor", pop: 2, push: 1},
	opBitNot:        {name: "bit_not", pop: 1, push: 1},
	opEqual:         {name: "equal", pop: 2, push: 1},
	opLessSigned:    {name: "less_signed", pop: 2, push: 1},
	opLessUnsigned:  {name: "less_unsigned", pop: 2, push: 1},
	opExt:           {name: "ext", operand: 1, pop: 1, push: 1},
	opRef8:          {name: "ref8", pop: 1, push: 1},
	opRef16:         {name: "ref16", pop: 1, push: 1},
	opRef32:         {name: "ref32", pop: 1, push: 1},
	opRef64:         {name: "ref64", pop: 1, push: 1},
	opRefFloat:      {name: "ref_float", pop: 1, push: 1, float: true},
	opRefDouble:     {name: "ref_double", pop: 1, push: 1, float: true},
	opRefLongDouble: {name: "ref_long_double", pop: 1, push: 1, float: true},
	opLToD:          {name: "l_to_d", pop: 1, push: 1, float: true},
	opDToL:          {name: "d_to_l", pop: 1, push: 1, float: true},
	opIfGoto:        {name: "if_goto", operand: 2, pop: 1},
	opGoto:          {name: "goto", operand: 2},
	opConst8:        {name: "const8", operand: 1, push: 1},
	opConst16:       {name: "const16", operand: 2, push: 1},
	opConst32:       {name: "const32", operand: 4, push: 1},
	opConst64:       {name: "const64", operand: 8, push: 1},
	opReg:           {name: "reg", operand: 2, push: 1},
	opEnd:           {name: "end"},
	opDup:           {name: "dup", pop: 1, push: 2},
	opPop:           {name: "pop", pop: 1},
	opZeroExt:       {name: "zero_ext", operand: 1, pop: 1, push: 1},
	opSwap:          {name: "swap", pop: 2, push: 2},
	opGetv:          {name: "getv", operand: 2, push: 1},
	opSetv:          {name: "setv", operand: 2, pop: 1, push: 1},
	// gdb's table says tracev pushes a value; gdbserver's interpreter,
	// which is what gdb's output runs on, leaves the stack alone, and so
	// does this one.
	opTracev:  {name: "tracev", operand: 2},
	opTracenz: {name: "tracenz", pop: 2},
	opTrace16: {name: "trace16", operand: 2, pop: 1, push: 1},
	opPick:    {name: "pick", operand: 1, push: 1},
	opRot:     {name: "rot", pop: 3, push: 3},
	// printf's operands are a count of arguments, a 16-bit string length
	// and the string: see decodePrintf.
	opPrintf: {name: "printf"},
}

// need is how many values op must find on the stack, given its operand.
func need(op byte, arg uint64) int {
	switch op {
	case opPick:
		return int(arg) + 1
	case opPrintf:
		// The arguments, then the channel and the function gdb pushes
		// (both ignored: the text goes to the Env's writer).
		return int(arg) + 2
	}
	return ops[op].pop
}

// effect is the change in stack depth op makes.
func effect(op byte, arg uint64) int {
	if op == opPrintf {
		return -need(op, arg)
	}
	return ops[op].push - ops[op].pop
}
