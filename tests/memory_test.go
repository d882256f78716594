//go:build linux

package tests

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"procgdb/rsp"
)

// Packet-level tests of procgdb's memory packets against a live process:
// both dialects of the binary read x, lldb's MultiMemRead, qCRC and
// qSearch:memory, each checked against what m reads. The stack's top is
// the test's memory: readable up to its end, with nothing mapped after.

// gdbQSupported and lldbQSupported are what gdb 13 and lldb 14 offer.
const (
	gdbQSupported  = "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386"
	lldbQSupported = "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"
)

// memStub starts basic under procgdb and returns a client that negotiated
// with features, and the end of the stack.
func memStub(t *testing.T, features string) (*rsp.Client, uint64) {
	t.Helper()
	prepare(t)
	onlyProcgdb(t, "binary reads and MultiMemRead")
	s, _ := startBasic(t)
	c, _ := negotiate(t, s, features)
	return c, stackEnd(t, s.pid)
}

// negotiate connects to s and sends qSupported with features; it returns
// the client and the stub's reply.
func negotiate(t *testing.T, s *stub, features string) (*rsp.Client, string) {
	t.Helper()
	c := dialStub(t, s)
	r := exchange(t, c, features)
	if !strings.Contains(r, "MultiMemRead+") || !strings.Contains(r, "binary-upload+") {
		t.Fatalf("qSupported: %q lacks MultiMemRead+ or binary-upload+", r)
	}
	return c, r
}

// packetSize returns the PacketSize in the stub's qSupported reply r.
func packetSize(t *testing.T, r string) int {
	t.Helper()
	for f := range strings.SplitSeq(r, ";") {
		if v, ok := strings.CutPrefix(f, "PacketSize="); ok {
			n, err := strconv.ParseUint(v, 16, 32)
			if err != nil {
				t.Fatalf("qSupported: %q: %v", f, err)
			}
			return int(n)
		}
	}
	t.Fatalf("qSupported: %q has no PacketSize", r)
	return 0
}

// TestBinaryReadWholePacket: an x read of exactly PacketSize bytes, the
// most gdb 16 asks for at once, comes back whole in both dialects, even
// when most bytes must be escaped and the reply is twice as long on the
// wire; what it reads is what m reads.
func TestBinaryReadWholePacket(t *testing.T) {
	for _, tt := range []struct{ name, features, prefix string }{
		{"gdb", gdbQSupported, "b"},
		{"lldb", lldbQSupported, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prepare(t)
			onlyProcgdb(t, "binary reads")
			s := startStub(t, stubOptions{prog: prog("bigdata")})
			c, features := negotiate(t, s, tt.features)
			size := packetSize(t, features)
			start, end := dataMapping(t, s.pid, prog("bigdata"))
			if end-start < uint64(size) {
				t.Fatalf("bigdata's data mapping %#x-%#x is smaller than PacketSize %#x", start, end, size)
			}
			var want []byte
			for off := 0; off < size; off += size / 4 {
				want = append(want, readM(t, c, start+uint64(off), size/4)...)
			}
			r := exchange(t, c, fmt.Sprintf("x%x,%x", start, size))
			if r != tt.prefix+string(want) {
				t.Errorf("x of PacketSize (%#x) bytes: %d bytes back, want %q and %d bytes as m reads them", size, len(r), tt.prefix, size)
			}
			stillAnswers(t, c)
		})
	}
}

// dataMapping returns the writable mapping of file in process pid, where
// its initialized data lies.
func dataMapping(t *testing.T, pid int, file string) (start, end uint64) {
	t.Helper()
	maps := readFile(t, fmt.Sprintf("/proc/%d/maps", pid))
	for _, l := range scanLines(maps) {
		f := strings.Fields(l)
		if len(f) < 6 || f[1] != "rw-p" || f[5] != file {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("maps line %q", l)
		}
		return a, b
	}
	t.Fatalf("process %d maps no writable part of %s:\n%s", pid, file, maps)
	return 0, 0
}

// readM reads n bytes at addr with m, the reference.
func readM(t *testing.T, c *rsp.Client, addr uint64, n int) []byte {
	t.Helper()
	r := exchange(t, c, fmt.Sprintf("m%x,%x", addr, n))
	b, err := hex.DecodeString(r)
	if err != nil {
		t.Fatalf("m%x,%x: %q: %v", addr, n, r, err)
	}
	return b
}

func TestBinaryReadDialects(t *testing.T) {
	for _, tt := range []struct {
		name, features, prefix, probe string
	}{
		{"gdb", gdbQSupported, "b", "b"},
		{"lldb", lldbQSupported, "", "OK"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, end := memStub(t, tt.features)
			if r := exchange(t, c, "x0,0"); r != tt.probe {
				t.Errorf("x0,0: %q, want %q", r, tt.probe)
			}
			want := readM(t, c, end-0x1000, 0x1000)
			if r := exchange(t, c, fmt.Sprintf("x%x,1000", end-0x1000)); r != tt.prefix+string(want) {
				t.Errorf("x of the stack's last page differs from m (%d bytes, want %d)", len(r), len(tt.prefix)+len(want))
			}
			// Runs off the end of the stack: the readable part.
			if r := exchange(t, c, fmt.Sprintf("x%x,10", end-4)); r != tt.prefix+string(want[0x1000-4:]) {
				t.Errorf("x across the end of the stack: %q", r)
			}
			if r := exchange(t, c, fmt.Sprintf("x%x,10", end)); !strings.HasPrefix(r, "E") {
				t.Errorf("x after the stack: %q, want an error", r)
			}
			stillAnswers(t, c)
		})
	}
}

func TestMultiMemReadLive(t *testing.T) {
	c, end := memStub(t, lldbQSupported)
	want := readM(t, c, end-0x20, 0x20)
	req := fmt.Sprintf("MultiMemRead:ranges:%x,10,%x,10,0,8,%x,0,%x,4;", end-0x20, end-8, end-0x20, end-0x10)
	r := exchange(t, c, req)
	head, data, ok := strings.Cut(r, ";")
	if !ok || head != "10,8,0,0,4" {
		t.Fatalf("%s: counts %q, want 10,8,0,0,4", req, head)
	}
	wantData := string(want[:0x10]) + string(want[0x18:]) + string(want[0x10:0x14])
	if data != wantData {
		t.Errorf("%s: data %q, want %q", req, data, wantData)
	}
	for _, bad := range []string{
		"MultiMemRead:ranges:;", "MultiMemRead:ranges:10;", "MultiMemRead:ranges:10,4",
		"MultiMemRead:ranges:zz,4;", "MultiMemRead:", "MultiMemRead:ranges:10,4,;",
	} {
		if r := exchange(t, c, bad); !strings.HasPrefix(r, "E") {
			t.Errorf("%q: %q, want an error", bad, r)
		}
	}
	stillAnswers(t, c)
}

// gdbCRC is gdb's CRC-32 (libiberty's xcrc32), for qCRC.
func gdbCRC(p []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, b := range p {
		crc ^= uint32(b) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestCRCAndSearchLive(t *testing.T) {
	c, end := memStub(t, gdbQSupported)
	const n = 0x3000
	mem := readM(t, c, end-n, n)
	if r, want := exchange(t, c, fmt.Sprintf("qCRC:%x,%x", end-n, n)), fmt.Sprintf("C%x", gdbCRC(mem)); r != want {
		t.Errorf("qCRC: %q, want %q", r, want)
	}
	if r := exchange(t, c, fmt.Sprintf("qCRC:%x,10", end-8)); !strings.HasPrefix(r, "E") {
		t.Errorf("qCRC across the end of the stack: %q, want an error", r)
	}
	// Search for 6 bytes near the top; the expected hit is their first
	// occurrence in the range.
	pat := mem[n-0x40 : n-0x3a]
	want := end - n + uint64(bytes.Index(mem, pat))
	if r := exchange(t, c, fmt.Sprintf("qSearch:memory:%x;%x;%s", end-n, n, pat)); r != fmt.Sprintf("1,%x", want) {
		t.Errorf("qSearch: %q, want 1,%x", r, want)
	}
	absent := []byte("procgdb-absent-pattern")
	if bytes.Contains(mem, absent) {
		t.Fatal("the stack holds the absent pattern")
	}
	if r := exchange(t, c, fmt.Sprintf("qSearch:memory:%x;%x;%s", end-n, n, absent)); r != "0" {
		t.Errorf("qSearch of an absent pattern: %q, want 0", r)
	}
	stillAnswers(t, c)
}

// TestFindAndCompareSections runs gdb's find and compare-sections, which
// procgdb serves with qSearch:memory and qCRC. compare-sections needs a
// program without PIE: gdb 13 compares a PIE's sections at their link
// addresses, which are not mapped (gdbserver fails the same way).
func TestFindAndCompareSections(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "qSearch:memory and qCRC")
	nopie := filepath.Join(t.TempDir(), "basic-nopie")
	if b, err := exec.Command("gcc", "-g", "-O0", "-no-pie", "-o", nopie, filepath.Join(suite.srcDir, "basic.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	s := startStub(t, stubOptions{prog: nopie, args: []string{filepath.Join(t.TempDir(), "report")}})
	tr := s.gdb(
		"set breakpoint always-inserted on",
		"break main",
		"continue",
		"find &pattern[0], +sizeof(pattern), (char)0x44, (char)0x55",
		"print &pattern[4]",
		"compare-sections .text",
		"compare-sections .rodata",
	)
	found := tr.match("find &pattern[0], +sizeof(pattern), (char)0x44, (char)0x55", `(?m)^(0x[0-9a-f]+) <pattern\+4>\n1 pattern found\.`)
	addr := tr.match("print &pattern[4]", `\(unsigned char \*\) (0x[0-9a-f]+) <pattern\+4>`)
	if found[1] != addr[1] {
		t.Errorf("find: %s, want %s", found[1], addr[1])
	}
	// The breakpoint at main stays inserted in .text: the comparison must
	// see the original byte, not the int3.
	tr.match("compare-sections .text", `Section \.text, range 0x[0-9a-f]+ -- 0x[0-9a-f]+: matched\.`)
	tr.match("compare-sections .rodata", `Section \.rodata, range 0x[0-9a-f]+ -- 0x[0-9a-f]+: matched\.`)
}
