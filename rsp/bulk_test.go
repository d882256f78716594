package rsp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"procgdb/inferior"
)

// lldbFeatures is what lldb 14 offers in qSupported.
const lldbFeatures = "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"

func TestBinaryReadDialects(t *testing.T) {
	for _, tt := range []struct {
		name, query string
		gdb         bool
	}{
		{"gdb 13", gdbFeatures, true},
		{"gdb offering binary-upload", "qSupported:binary-upload+", true},
		{"lldb", lldbFeatures, false},
		{"no qSupported", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := startSession(t, newFakeTarget(), Config{})
			if tt.query != "" {
				if r := h.exchange(tt.query); !strings.Contains(r, "binary-upload+") {
					t.Errorf("qSupported reply %q lacks binary-upload+", r)
				}
			}
			prefix := ""
			if tt.gdb {
				prefix = "b"
				h.expect("x0,0", "b")
				h.expect("x10000,0", "b")
			} else {
				// lldb's probe.
				h.expect("x0,0", "OK")
				h.expect("x10000,0", "OK")
			}
			// '#' is 0x23, '$' 0x24: escaped by the framing.
			h.expect("x10023,2", prefix+"#$")
			h.expect("x4fffe,10", prefix+"bc")
			h.expect("x0,1", "E05")
			h.expect("x10000,zz", "E01")
		})
	}
}

// rangeTarget is a fake target that is a RangeReader, recording calls.
type rangeTarget struct {
	*fakeTarget
	calls int
}

func (rt *rangeTarget) ReadRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error) {
	rt.calls++
	counts := make([]int, len(ranges))
	off := 0
	for i, r := range ranges {
		if r.Len > 0 {
			counts[i], _ = rt.ReadMemory(pid, r.Addr, dst[off:off+r.Len])
		}
		off += r.Len
	}
	return counts, nil
}

func TestMultiMemRead(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("RangeReader=%v", batched), func(t *testing.T) {
			ft := newFakeTarget()
			var target Target = ft
			rt := &rangeTarget{fakeTarget: ft}
			if batched {
				target = rt
			}
			h := serveTarget(t, target, ft, Config{})
			if r := h.exchange(lldbFeatures); !strings.Contains(r, "MultiMemRead+") {
				t.Errorf("qSupported reply %q lacks MultiMemRead+", r)
			}
			// Fake memory holds byte(i%251) at 0x10000+i and ends at 0x50000.
			h.expect("MultiMemRead:ranges:10000,4,10023,2;", "4,2;\x00\x01\x02\x03#$")
			// Partly unreadable, unreadable, zero-length, then readable.
			h.expect("MultiMemRead:ranges:4fffe,10,0,8,10000,0,10001,1;", "2,0,0,1;bc\x01")
			h.expect("MultiMemRead:ranges:10000,2;options:;", "2;\x00\x01")
			for _, bad := range []string{
				"MultiMemRead:", "MultiMemRead:ranges:;", "MultiMemRead:ranges:10000;",
				"MultiMemRead:ranges:10000,4", "MultiMemRead:ranges:1g,4;",
				"MultiMemRead:ranges:10,4,;", "MultiMemRead:ranges:10,4;junk",
				"MultiMemRead:ranges:10,ffffffffff;",
			} {
				h.expect(bad, "E01")
			}
			if batched && rt.calls != 3 {
				t.Errorf("%d ReadRanges calls, want one per good request (3)", rt.calls)
			}
		})
	}
}

func TestMultiMemReadIsCapped(t *testing.T) {
	ft := newFakeTarget()
	h := serveTarget(t, wideTarget{ft}, ft, Config{})
	r := h.exchange(fmt.Sprintf("MultiMemRead:ranges:0,%x,0,%x,0,10;", packetSize-10, 100))
	head, data, ok := strings.Cut(r, ";")
	if want := fmt.Sprintf("%x,9,0", packetSize-10); !ok || head != want {
		t.Fatalf("counts %q, want %q", head, want)
	}
	if len(data) != packetSize-1 {
		t.Errorf("%d bytes, want %d", len(data), packetSize-1)
	}
}

func TestParseMultiMemRead(t *testing.T) {
	got, err := parseMultiMemRead([]byte("ranges:100a00,4,200200,a0,400000,0;"))
	want := []inferior.Range{{Addr: 0x100a00, Len: 4}, {Addr: 0x200200, Len: 0xa0}, {Addr: 0x400000}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parseMultiMemRead = %v, %v; want %v", got, err, want)
	}
	if _, err := parseMultiMemRead([]byte("ranges:10,4")); !errors.Is(err, errMalformed) {
		t.Errorf("missing ';': %v", err)
	}
}

func FuzzParseMultiMemRead(f *testing.F) {
	f.Add([]byte("ranges:100a00,4,200200,a0;"))
	f.Add([]byte("ranges:0,0;options:;"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rs, err := parseMultiMemRead(in)
		if err != nil {
			return
		}
		again, err := parseMultiMemRead(appendMultiMemRead(nil, rs))
		if err != nil || !slices.Equal(again, rs) {
			t.Fatalf("round trip of %q: %v, %v; want %v", in, again, err, rs)
		}
	})
}

func TestGDBCRC(t *testing.T) {
	// libiberty's xcrc32 of "123456789" from 0xffffffff (CRC-32/MPEG-2).
	if got := gdbCRC(0xffffffff, []byte("123456789")); got != 0x0376e6e7 {
		t.Errorf("gdbCRC = %#x, want 0x376e6e7", got)
	}
}

func TestCRCPacket(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	want := gdbCRC(0xffffffff, ft.mem[0x100:0x100+0x3000])
	h.expect("qCRC:10100,3000", fmt.Sprintf("C%x", want))
	h.expect("qCRC:10000,0", "Cffffffff")
	h.expect("qCRC:4ff00,200", "E05")
	h.expect("qCRC:0,4", "E05")
	h.expect("qCRC:10000", "E01")
}

func TestSearchMemoryPacket(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	// Bytes 0x23 0x24 ('#', '$') first occur at offset 0x23; the pattern
	// is escaped by the framing.
	h.expect("qSearch:memory:10000;1000;#$", "1,10023")
	h.expect("qSearch:memory:10024;fc;#$", "1,1011e") // 0x23 again at 251+0x23
	h.expect("qSearch:memory:10024;fb;#$", "0")       // ends one byte short
	h.expect("qSearch:memory:10000;1;#$", "0")
	// A pattern with ';' in it.
	h.expect("qSearch:memory:10000;1000;:;<", "1,1003a")
	h.expect("qSearch:memory:4ff00;200;zz", "E05")
	h.expect("qSearch:memory:10000;10;", "E01")
	h.expect("qSearch:memory:10000;10", "E01")
	h.expect("qSearch:memory:g;10;a", "E01")
}

func TestParseSearch(t *testing.T) {
	q, err := parseSearch([]byte("10;20;a;b"))
	if err != nil || q.addr != 0x10 || q.length != 0x20 || string(q.pattern) != "a;b" {
		t.Errorf("parseSearch = %+v, %v", q, err)
	}
}

func FuzzParseSearch(f *testing.F) {
	f.Add([]byte("10;20;a;b"))
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := parseSearch(in)
		if err != nil {
			return
		}
		again, err := parseSearch(appendSearch(nil, q))
		if err != nil || again.addr != q.addr || again.length != q.length || string(again.pattern) != string(q.pattern) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, q)
		}
	})
}

// needleTarget is a fake target whose memory is zero everywhere but for
// needle at addr.
type needleTarget struct {
	*fakeTarget
	addr   uint64
	needle []byte
}

func (nt needleTarget) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	clear(dst)
	for i, b := range nt.needle {
		if a := nt.addr + uint64(i); a >= addr && a < addr+uint64(len(dst)) {
			dst[a-addr] = b
		}
	}
	return len(dst), nil
}

func TestSearchMemoryAcrossReads(t *testing.T) {
	ft := newFakeTarget()
	// The needle straddles the end of the first read (bulkChunk bytes).
	at := uint64(0x100000 + bulkChunk - 2)
	h := serveTarget(t, needleTarget{ft, at, []byte("abcd")}, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect(fmt.Sprintf("qSearch:memory:100000;%x;abcd", 3*bulkChunk), fmt.Sprintf("1,%x", at))
	h.expect(fmt.Sprintf("qSearch:memory:100000;%x;abcd", bulkChunk+1), "0")
	h.expect(fmt.Sprintf("qSearch:memory:%x;%x;abcd", at+1, 3*bulkChunk), "0")
}

// TestPipelinedMemoryPackets keeps two requests in flight, as the bench's
// bulk transfers do: the replies come back in order and match.
func TestPipelinedMemoryPackets(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	if err := h.c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	const chunk = 0x8000
	data := make([]byte, 4*chunk)
	for i := range data {
		data[i] = byte(i * 7) // with every byte to escape
	}
	var reqs [][]byte
	for off := 0; off < len(data); off += chunk {
		req := fmt.Appendf(nil, "X%x,%x:", 0x10000+off, chunk)
		reqs = append(reqs, append(req, data[off:off+chunk]...))
	}
	for off := 0; off < len(data); off += chunk {
		reqs = append(reqs, fmt.Appendf(nil, "x%x,%x", 0x10000+off, chunk))
	}
	var got []byte
	if err := h.c.SendBytes(reqs[0]); err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if i+1 < len(reqs) {
			if err := h.c.SendBytes(reqs[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		r, err := h.c.ReceiveBytes()
		if err != nil {
			t.Fatal(err)
		}
		if reqs[i][0] == 'X' {
			if string(r) != "OK" {
				t.Fatalf("%.10q: %q", reqs[i], r)
			}
			continue
		}
		if len(r) != chunk+1 || r[0] != 'b' {
			t.Fatalf("%q: %d bytes back, %.10q", reqs[i], len(r), r)
		}
		got = append(got, r[1:]...)
	}
	if !bytes.Equal(got, data) {
		t.Error("data read back differs from data written")
	}
}
