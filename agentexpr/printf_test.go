package agentexpr

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrintf: each format and its arguments, and what glibc's printf
// prints for them (run once to fill the table).
func TestPrintf(t *testing.T) {
	const minus1 = ^uint64(0)
	for _, c := range []struct {
		format string
		args   []uint64
		want   string
	}{
		{`%d|%i|%u|%x|%X|%o|%c`, []uint64{1, 2, 3, 0xab, 0xab, 8, 'A'}, "1|2|3|ab|AB|10|A"},
		{`[%+d][% d][%05d][%-5d|][%.3d][%5.3d][%x][%X][%#X][%#o][%#x][%.0d][%#.0o][%hd][%hu][%ld][%zu][%lx]`,
			[]uint64{5, 5, minus1 - 41, minus1 - 41, 7, minus1 - 6, 0xdeadbeef, 0xabc, 0xabc, 8, 0, 0, 0, 70000, minus1, minus1, minus1, minus1},
			"[+5][ 5][-0042][-42  |][007][ -007][deadbeef][ABC][0XABC][010][0][][0][4464][65535][-1][18446744073709551615][ffffffffffffffff]"},
		{`[%c][%3c][%-3c|][%s][%.1s][%6s][%-6s|][%p][%10p][%-10p|][%u][%d][%i][%o]`,
			[]uint64{'A', 'B', 'C', addrMsg - 4 + 7, addrMsg - 4 + 7, addrMsg, addrMsg, 0, 0x1234, 0x1234, 0xffffffff, 0x80000000, 0x80000000, 0xffffffff},
			"[A][  B][C  |][hello][h][    hi][hi    |][(nil)][    0x1234][0x1234    |][4294967295][-2147483648][-2147483648][37777777777]"},
		{`[%.5s][%5.1s][%08.3d][%-08d|][%+05d][% 05d][%#08x][%#-8o|]`,
			[]uint64{0, 0, 5, 5, 5, minus1 - 4, 255, 8},
			"[(null][    (][     005][5       |][+0005][-0005][0x0000ff][010     |]"},
		{`%d%%\t\"%s\"\\\n`, []uint64{7, addrMsg}, "7%\t\"hi\"\\\n"},
		{`%lld %lu %ld`, []uint64{minus1 - 6, minus1 - 6, 1 << 40}, "-7 18446744073709551609 1099511627776"},
		{`no directive`, nil, "no directive"},
		{``, nil, ""},
	} {
		f, err := parseFormat([]byte(c.format))
		require.NoError(t, err, c.format)
		require.Equal(t, len(c.args), f.nargs, c.format)
		e := newProcess()
		e.regions = append(e.regions, region{rodata + 7, []byte("hello\x00")})
		got, err := f.print(nil, c.args, &reader{mem: e})
		require.NoError(t, err, c.format)
		require.Equal(t, c.want, string(got), c.format)
	}
}

func TestPrintfRefuses(t *testing.T) {
	for _, c := range []struct {
		format string
		err    error
	}{
		{`%`, ErrInvalid},
		{`%l`, ErrInvalid},
		{`%5`, ErrInvalid},
		{`%n`, ErrInvalid},
		{`%*d`, ErrInvalid},
		{`%hhd`, ErrInvalid},
		{`%y`, ErrInvalid},
		{`%+u`, ErrInvalid},
		{`% x`, ErrInvalid},
		{`%#u`, ErrInvalid},
		{`%05s`, ErrInvalid},
		{`%.2c`, ErrInvalid},
		{`%hs`, ErrInvalid},
		{`%#p`, ErrInvalid},
		{`%lp`, ErrInvalid},
		{`%.3p`, ErrInvalid},
		{`%f`, ErrUnsupported},
		{`%Lf`, ErrUnsupported},
		{`%Ld`, ErrUnsupported},
		{`%ls`, ErrUnsupported},
		{`%lc`, ErrUnsupported},
		{`%99999d`, ErrUnsupported},
		{`%.99999d`, ErrUnsupported},
		{`bad \q escape`, ErrInvalid},
		{`trailing \`, ErrInvalid},
	} {
		_, err := parseFormat([]byte(c.format))
		require.ErrorIs(t, err, c.err, c.format)
	}
}

// TestPrintfString: %s stops at the NUL, at the precision, at maxString,
// and fails on memory it cannot read before a NUL.
func TestPrintfString(t *testing.T) {
	long := strings.Repeat("x", 5000)
	e := &fakeEnv{regions: []region{
		{0x10000, []byte(long + "\x00")},
		{0x20000 - 3, []byte("abc")}, // runs into unmapped memory
	}}
	for _, c := range []struct {
		format string
		arg    uint64
		want   string
		err    error
	}{
		{`%s`, 0x10000, long[:maxString], nil},
		{`%.3s`, 0x10000, "xxx", nil},
		{`%s`, 0x10000 + 4990, long[:10], nil},
		{`%s`, 0x20000 - 3, "", ErrUnreadable},
		{`%.3s`, 0x20000 - 3, "abc", nil},
		{`%s`, 0x30000, "", ErrUnreadable},
	} {
		f, err := parseFormat([]byte(c.format))
		require.NoError(t, err)
		got, err := f.print(nil, []uint64{c.arg}, &reader{mem: e})
		if c.err != nil {
			require.ErrorIs(t, err, c.err, "%s %#x", c.format, c.arg)
			continue
		}
		require.NoError(t, err, "%s %#x", c.format, c.arg)
		require.Equal(t, c.want, string(got), "%s %#x", c.format, c.arg)
	}
}

// TestPrintfOneWrite: each printf is one Write, so that lines of threads
// printing at once do not interleave.
func TestPrintfOneWrite(t *testing.T) {
	p, err := Compile(code(opConst8, 2, opConst8, 1, opConst8, 0, opConst8, 0,
		opPrintf, 2, 0, 8, "%d + %d", 0, opEnd))
	require.NoError(t, err)
	var w countingWriter
	require.NoError(t, p.Exec(Env{Out: &w}))
	require.Equal(t, 1, w.writes)
	require.Equal(t, "1 + 2", w.String())
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(b)
}
