package agentexpr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// The printf opcode, as gdb emits it for `dprintf` with `set dprintf-style
// agent`: the arguments are pushed last to first, then a channel and a
// function (gdb's dprintf-channel and dprintf-function; this agent writes
// to the Env's writer and ignores both); the opcode is followed by the
// number of arguments (one byte), the length of the format string
// including its terminating NUL (two bytes, big-endian) and the string.
//
// The string is the format as the user typed it between the quotes:
// escapes such as \n are still escaped. It is read as gdb's format parser
// reads it (format_pieces, without gdb's extensions), directives
// included: only the C89 integer, character, string and pointer
// conversions, with flags, width, precision and the h, l, ll and z
// sizes. gdb has checked the format before sending it; what it accepts
// and this agent cannot print (floating point, wide characters) is
// refused here, when the breakpoint is inserted, rather than at each hit.

// Bounds on what one printf may produce.
const (
	// maxField caps widths and precisions (a "%1000000000d" would
	// otherwise make a gigabyte).
	maxField = 4096
	// maxString caps what %s reads from the process before a NUL.
	maxString = 4096
)

// format is a parsed printf format.
type format struct {
	pieces []piece
	nargs  int
}

// piece is literal text (conv 0) or one directive.
type piece struct {
	text  string
	conv  byte // d i u o x X c s p
	flags string
	width int
	prec  int  // -1: none
	size  byte // 0 (int), 'h' (short), 'l' (long, long long, size_t)
}

func (p piece) has(flag byte) bool { return strings.IndexByte(p.flags, flag) >= 0 }

// decodePrintf decodes printf's operands from b (the bytes after the
// opcode) and returns how many bytes they take.
func decodePrintf(b []byte) (int, *format, error) {
	if len(b) < 3 {
		return 0, nil, fmt.Errorf("truncated operand: %w", ErrInvalid)
	}
	nargs, slen := int(b[0]), int(b[1])<<8|int(b[2])
	if slen == 0 || len(b) < 3+slen || b[3+slen-1] != 0 {
		return 0, nil, fmt.Errorf("format string of %d bytes: truncated or not NUL-terminated: %w", slen, ErrInvalid)
	}
	s := b[3 : 3+slen-1]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	f, err := parseFormat(s)
	if err != nil {
		return 0, nil, err
	}
	if f.nargs != nargs {
		return 0, nil, fmt.Errorf("format %q wants %d arguments, given %d: %w", s, f.nargs, nargs, ErrInvalid)
	}
	return 3 + slen, f, nil
}

// escapes maps the escapes gdb's format parser knows to their bytes.
var escapes = map[byte]byte{
	'\\': '\\', 'a': '\a', 'b': '\b', 'e': 0x1b, 'f': '\f',
	'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '"': '"',
}

// unescape resolves the backslash escapes of s.
func unescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		if i == len(s) {
			return nil, fmt.Errorf("format ends with a backslash: %w", ErrInvalid)
		}
		c, ok := escapes[s[i]]
		if !ok {
			return nil, fmt.Errorf("unknown escape \\%c: %w", s[i], ErrInvalid)
		}
		out = append(out, c)
	}
	return out, nil
}

// parseFormat parses a printf format.
func parseFormat(raw []byte) (*format, error) {
	s, err := unescape(raw)
	if err != nil {
		return nil, err
	}
	f := &format{}
	var lit []byte
	for i := 0; i < len(s); {
		if s[i] != '%' {
			lit = append(lit, s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit = append(lit, '%')
			i += 2
			continue
		}
		p, n, err := parseDirective(s[i:])
		if err != nil {
			return nil, err
		}
		if len(lit) > 0 {
			f.pieces = append(f.pieces, piece{text: string(lit)})
			lit = nil
		}
		f.pieces = append(f.pieces, p)
		f.nargs++
		i += n
	}
	if len(lit) > 0 {
		f.pieces = append(f.pieces, piece{text: string(lit)})
	}
	return f, nil
}

// parseDirective parses the directive at the start of s ("%..."), and
// returns it and its length. Its checks are those of gdb's parser: the
// flags each conversion allows, and the sizes it takes.
func parseDirective(s []byte) (piece, int, error) {
	p := piece{prec: -1}
	i := 1
	for i < len(s) && strings.IndexByte("0-+ #", s[i]) >= 0 {
		p.flags += string(s[i])
		i++
	}
	var err error
	if p.width, i, err = number(s, i); err != nil {
		return p, 0, err
	}
	if i < len(s) && s[i] == '.' {
		if p.prec, i, err = number(s, i+1); err != nil {
			return p, 0, err
		}
	}
	lcount := 0
	switch {
	case i < len(s) && s[i] == 'h':
		p.size = 'h'
		i++
	case i+1 < len(s) && s[i] == 'l' && s[i+1] == 'l':
		p.size, lcount = 'l', 2
		i += 2
	case i < len(s) && (s[i] == 'l' || s[i] == 'z'):
		p.size, lcount = 'l', 1
		i++
	case i < len(s) && strings.IndexByte("LHDI", s[i]) >= 0:
		return p, 0, fmt.Errorf("%q: size %c (floating point or Windows): %w", s[:i+1], s[i], ErrUnsupported)
	}
	if i == len(s) {
		return p, 0, fmt.Errorf("%q: incomplete directive: %w", s, ErrInvalid)
	}
	p.conv = s[i]
	i++
	spec := string(s[:i])
	bad := func(flags string) bool { return strings.ContainsAny(p.flags, flags) }
	switch p.conv {
	case 'd', 'i':
	case 'u', 'o', 'x', 'X':
		if bad("+ ") || p.conv == 'u' && bad("#") {
			return p, 0, fmt.Errorf("%q: flags %q: %w", spec, p.flags, ErrInvalid)
		}
	case 'c', 's':
		if lcount > 0 {
			return p, 0, fmt.Errorf("%q: wide characters: %w", spec, ErrUnsupported)
		}
		if p.size == 'h' || bad("0+ ") || p.conv == 'c' && p.prec >= 0 {
			return p, 0, fmt.Errorf("%q: flags or size: %w", spec, ErrInvalid)
		}
	case 'p':
		if p.size != 0 || p.prec >= 0 || bad("#0+ ") {
			return p, 0, fmt.Errorf("%q: flags or size: %w", spec, ErrInvalid)
		}
	case 'e', 'f', 'g', 'E', 'G':
		return p, 0, fmt.Errorf("%q: floating point: %w", spec, ErrUnsupported)
	default:
		return p, 0, fmt.Errorf("%q: unknown conversion %q: %w", spec, p.conv, ErrInvalid)
	}
	return p, i, nil
}

// number parses the decimal digits of s from i (none is zero).
func number(s []byte, i int) (int, int, error) {
	j := i
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, j, nil
	}
	n, err := strconv.Atoi(string(s[i:j]))
	if err != nil || n > maxField {
		return 0, j, fmt.Errorf("width or precision %q: over %d: %w", s[i:j], maxField, ErrUnsupported)
	}
	return n, j, nil
}

// print formats f with args (args[0] for the first directive) and
// appends the text to dst; %s reads strings through r.
func (f *format) print(dst []byte, args []uint64, r *reader) ([]byte, error) {
	for _, p := range f.pieces {
		if p.conv == 0 {
			dst = append(dst, p.text...)
			continue
		}
		v := args[0]
		args = args[1:]
		var err error
		if dst, err = p.print(dst, v, r); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// print appends one directive's rendering of v, as C's printf renders the
// value gdb passed (an int, long, long long or size_t: the argument
// truncated to the directive's size).
func (p piece) print(dst []byte, v uint64, r *reader) ([]byte, error) {
	switch p.conv {
	case 'c':
		return p.pad(dst, "", []byte{byte(v)}), nil
	case 's':
		var s []byte
		if v == 0 {
			s = []byte("(null)")
		} else {
			limit := maxString
			if p.prec >= 0 {
				limit = p.prec
			}
			var err error
			if s, err = r.readString(v, limit); err != nil {
				return dst, fmt.Errorf("%%s: %w", err)
			}
		}
		if p.prec >= 0 && len(s) > p.prec {
			s = s[:p.prec]
		}
		return p.pad(dst, "", s), nil
	case 'p':
		if v == 0 {
			return p.pad(dst, "", []byte("(nil)")), nil
		}
		return p.pad(dst, "0x", strconv.AppendUint(nil, v, 16)), nil
	}
	return p.integer(dst, v), nil
}

// integer appends an integer directive (d i u o x X): digits, at least
// the precision of them, the '#' prefix, the sign, then padding.
func (p piece) integer(dst []byte, v uint64) []byte {
	neg := false
	switch p.size {
	case 0:
		v = uint64(uint32(v))
	case 'h':
		v = uint64(uint16(v))
	}
	if p.conv == 'd' || p.conv == 'i' {
		var x int64
		switch p.size {
		case 0:
			x = int64(int32(v))
		case 'h':
			x = int64(int16(v))
		default:
			x = int64(v)
		}
		neg = x < 0
		if neg {
			v = uint64(-x)
		}
	}
	base := map[byte]int{'o': 8, 'x': 16, 'X': 16}[p.conv]
	if base == 0 {
		base = 10
	}
	var digits []byte
	if v != 0 || p.prec != 0 {
		digits = strconv.AppendUint(nil, v, base)
	}
	if p.conv == 'X' {
		digits = bytes.ToUpper(digits)
	}
	for len(digits) < p.prec {
		digits = append([]byte{'0'}, digits...)
	}
	prefix := ""
	switch {
	case neg:
		prefix = "-"
	case (p.conv == 'd' || p.conv == 'i') && p.has('+'):
		prefix = "+"
	case (p.conv == 'd' || p.conv == 'i') && p.has(' '):
		prefix = " "
	case p.has('#') && p.conv == 'o' && (len(digits) == 0 || digits[0] != '0'):
		prefix = "0"
	case p.has('#') && v != 0 && (p.conv == 'x' || p.conv == 'X'):
		prefix = "0" + string(p.conv)
	}
	if p.has('0') && !p.has('-') && p.prec < 0 {
		for len(prefix)+len(digits) < p.width {
			digits = append([]byte{'0'}, digits...)
		}
	}
	return p.pad(dst, prefix, digits)
}

// pad appends prefix and body, padded with spaces to the width: on the
// right with the '-' flag, else on the left.
func (p piece) pad(dst []byte, prefix string, body []byte) []byte {
	fill := p.width - len(prefix) - len(body)
	if !p.has('-') {
		for ; fill > 0; fill-- {
			dst = append(dst, ' ')
		}
	}
	dst = append(append(dst, prefix...), body...)
	for ; fill > 0; fill-- {
		dst = append(dst, ' ')
	}
	return dst
}
