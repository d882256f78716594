//go:build linux

package procdir

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatus(t *testing.T) {
	const ok = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t5\t1000\n" +
		"Groups:\t4 27 1000 \nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000080000\nCapBnd:\t000001ffffffffff\n"
	st, err := parseStatus([]byte(ok))
	require.NoError(t, err)
	assert.Equal(t, status{uid: IDs{1000, 0, 0}, gid: IDs{1000, 1000, 5}, capPrm: 0x1ffffffffff, capEff: 1 << 19, groups: []uint32{4, 27, 1000}}, st)
	st, err = parseStatus([]byte("Uid:\t1 1 1 1\nGid:\t1 1 1 1\nGroups:\t\nCapPrm:\t0\nCapEff:\t0\n"))
	require.NoError(t, err)
	assert.Empty(t, st.groups, "no supplementary groups")

	for name, bad := range map[string]string{
		"no CapEff":          "Uid:\t1 1 1 1\nGid:\t1 1 1 1\nCapPrm:\t0\n",
		"three uids":         "Uid:\t1 1 1\nGid:\t1 1 1 1\nCapPrm:\t0\nCapEff:\t0\n",
		"uid not a number":   "Uid:\tx 1 1 1\nGid:\t1 1 1 1\nCapPrm:\t0\nCapEff:\t0\n",
		"uid over 32 bits":   "Uid:\t4294967296 1 1 1\nGid:\t1 1 1 1\nCapPrm:\t0\nCapEff:\t0\n",
		"caps not hex":       "Uid:\t1 1 1 1\nGid:\t1 1 1 1\nCapPrm:\tzz\nCapEff:\t0\n",
		"group not a number": "Uid:\t1 1 1 1\nGid:\t1 1 1 1\nGroups:\t1 x\nCapPrm:\t0\nCapEff:\t0\n",
		"empty":              "",
		"no colon anywhere":  "Uid 1 1 1 1",
	} {
		_, err := parseStatus([]byte(bad))
		assert.Error(t, err, name)
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want stat
	}{
		{"1234 (cat) S 1000 1234 1000 34816 1234 4194304 110 0 0 0", stat{ppid: 1000, flags: 4194304}},
		{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0", stat{ppid: 0, flags: 2129984}},
		// A command name may hold spaces and parentheses.
		{"77 (a) b (c) ) R 5 77 5 0 -1 64 0", stat{ppid: 5, flags: 64}},
	} {
		got, err := parseStat([]byte(tc.in))
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2 3", "1 (x) S y 1 1 1 1 1", "1 (x) S 1 1 1 1 1 -1"} {
		_, err := parseStat([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestMapRoot(t *testing.T) {
	for _, tc := range []struct {
		in   string
		root uint32
		ok   bool
	}{
		{"         0          0 4294967295\n", 0, true},
		{"         0     100000      65536\n", 100000, true},
		{"      1000       1000          1\n         0     100000       1000\n", 100000, true},
		{"      1000       1000          1\n", 0, false},
		{"", 0, false},
	} {
		root, ok := mapRoot([]byte(tc.in))
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.root, root, tc.in)
	}
}

// The readers agree with what this process knows of itself.
func TestReadSelf(t *testing.T) {
	pid := os.Getpid()
	p, err := ReadPeer(pid)
	require.NoError(t, err)
	assert.Equal(t, uint32(os.Getuid()), p.UID)
	assert.Equal(t, uint32(os.Getgid()), p.GID)
	assert.NotZero(t, p.UserNS)

	tg, err := ReadTarget(pid)
	require.NoError(t, err)
	assert.False(t, tg.Kernel)
	assert.Equal(t, uint32(os.Geteuid()), tg.UID.Effective)
	require.NotEmpty(t, tg.UserNS)
	assert.Equal(t, p.UserNS, tg.UserNS[0].Inode)
	require.NotEmpty(t, tg.Ancestors)
	assert.Equal(t, os.Getppid(), tg.Ancestors[0])
	assert.Equal(t, 1, tg.Ancestors[len(tg.Ancestors)-1])
	if os.Geteuid() == 0 && os.Getegid() == 0 {
		assert.Equal(t, DumpableUnknown, tg.Dumpable)
	} else {
		assert.Equal(t, DumpableYes, tg.Dumpable)
	}

	_, err = ReadYama()
	assert.NoError(t, err)
}

func TestReadKernelThread(t *testing.T) {
	// kthreadd is process 2 wherever this runs in the first PID namespace.
	if s, _, err := readStat(2); err != nil || s.flags&pfKthread == 0 {
		t.Skipf("process 2 is not kthreadd here (a PID namespace): %v", err)
	}
	tg, err := ReadTarget(2)
	require.NoError(t, err)
	assert.True(t, tg.Kernel)
	assert.ErrorContains(t, Check(Peer{PID: 1, CapEff: ^Caps(0)}, tg, YamaAbsent), "kernel thread")
}

func TestParsePID(t *testing.T) {
	for s, want := range map[string]int{"1": 1, "4194304": 4194304, "2147483647": 2147483647} {
		got, ok := parsePID(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "0", "01", "-1", "+1", "1a", "self", ".new", "2147483648", "99999999999"} {
		_, ok := parsePID([]byte(s))
		assert.False(t, ok, s)
	}
}

// dirent is a struct linux_dirent64 record for name, padded to 8 bytes.
func dirent(name string) []byte {
	n := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.NativeEndian.PutUint16(b[16:], uint16(n))
	copy(b[19:], name)
	return b
}

func TestDirentPIDs(t *testing.T) {
	var b []byte
	for _, name := range []string{".", "..", "1", "self", "1234567", "sys", "42", "0"} {
		b = append(b, dirent(name)...)
	}
	assert.Equal(t, []int{1, 1234567, 42}, direntPIDs(b, nil))
	assert.Equal(t, []int{1}, direntPIDs(append(dirent("1"), 1, 2, 3), nil), "a short tail")
	bad := dirent("7")
	binary.NativeEndian.PutUint16(bad[16:], 300)
	assert.Empty(t, direntPIDs(bad, nil), "a length past the buffer")
}
