package rsp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"procgdb/inferior"
)

func TestParseBreakpoint(t *testing.T) {
	tests := []struct {
		in   string
		want breakpoint
		err  error
	}{
		{"0,401136,1", breakpoint{typ: 0, addr: 0x401136, kind: 1}, nil},
		{"2,7ffe0000,8", breakpoint{typ: 2, addr: 0x7ffe0000, kind: 8}, nil},
		{"0,401136,1;X3,220c05", breakpoint{typ: 0, addr: 0x401136, kind: 1,
			conds: [][]byte{{0x22, 0x0c, 0x05}}}, nil},
		// gdb 13: two conditions back to back (ORed).
		{"0,555555555141,1;X4,22021327X4,22011327", breakpoint{typ: 0, addr: 0x555555555141, kind: 1,
			conds: [][]byte{{0x22, 0x02, 0x13, 0x27}, {0x22, 0x01, 0x13, 0x27}}}, nil},
		// gdbserver also takes a ';' between them.
		{"1,10,1;X1,27;X1,27", breakpoint{typ: 1, addr: 0x10, kind: 1,
			conds: [][]byte{{0x27}, {0x27}}}, nil},
		// gdb 13: two dprintfs at one address (dprintf-style agent).
		{"0,55555555513d,1;cmds:1,X1e,26000622100222dc1608021916202200220034010007612025645c6e0027" +
			"X1c,2500005555555580181916202200220034010007622025645c6e0027",
			breakpoint{typ: 0, addr: 0x55555555513d, kind: 1, persist: true, cmds: [][]byte{
				[]byte("\x26\x00\x06\x22\x10\x02\x22\xdc\x16\x08\x02\x19\x16\x20\x22\x00\x22\x00\x34\x01\x00\x07a %d\\n\x00\x27"),
				[]byte("\x25\x00\x00\x55\x55\x55\x55\x80\x18\x19\x16\x20\x22\x00\x22\x00\x34\x01\x00\x07b %d\\n\x00\x27"),
			}}, nil},
		{"0,10,1;X1,27;cmds:0,X1,27", breakpoint{typ: 0, addr: 0x10, kind: 1,
			conds: [][]byte{{0x27}}, cmds: [][]byte{{0x27}}}, nil},
		{"0,10,1;X0,", breakpoint{typ: 0, addr: 0x10, kind: 1, conds: [][]byte{{}}}, nil},
		{"0,10,1;", breakpoint{typ: 0, addr: 0x10, kind: 1}, nil},
		{"0,401136", breakpoint{}, errMalformed},
		{"0,401136,1,2", breakpoint{}, errMalformed},
		{"", breakpoint{}, errMalformed},
		{"z,401136,1", breakpoint{}, errHexDigit},
		{"0,,1", breakpoint{}, errHexEmpty},
		{"0,1,", breakpoint{}, errHexEmpty},
		{"0,1,1;X3,2201", breakpoint{}, errMalformed},
		{"0,1,1;X3", breakpoint{}, errMalformed},
		{"0,1,1;X,27", breakpoint{}, errHexEmpty},
		{"0,1,1;X1,zz", breakpoint{}, errHexDigit},
		{"0,1,1;Y1,27", breakpoint{}, errMalformed},
		{"0,1,1;cmds:2,X1,27", breakpoint{}, errMalformed},
		{"0,1,1;cmds:1,", breakpoint{}, errMalformed},
		{"0,1,1;cmds:1X1,27", breakpoint{}, errMalformed},
		{"0,1,1;cmds:1,X1,27;cmds:1,X1,27", breakpoint{}, errMalformed},
		{"0,1,1;X7fffffff,27", breakpoint{}, errMalformed},
	}
	for _, tt := range tests {
		got, err := parseBreakpoint([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseBreakpoint(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseBreakpoint(f *testing.F) {
	f.Add([]byte("0,401136,1"))
	f.Add([]byte("0,401136,1;X3,220c05"))
	f.Add([]byte("0,555555555141,1;X4,22021327X4,22011327"))
	f.Add([]byte("0,10,1;X1,27;cmds:1,X1,27X2,2727"))
	f.Fuzz(func(t *testing.T, in []byte) {
		bp, err := parseBreakpoint(in)
		if err != nil {
			return
		}
		enc := appendBreakpoint(nil, bp)
		again, err := parseBreakpoint(enc)
		if err != nil || !reflect.DeepEqual(again, bp) {
			t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", in, enc, again, err, bp)
		}
	})
}

// hwTarget is a fakeTarget with two debug registers and no read
// watchpoints.
type hwTarget struct {
	*fakeTarget
	used int
}

var _ HWPointer = (*hwTarget)(nil)

func (ht *hwTarget) HWSupport(kind inferior.HWKind) bool { return kind != inferior.HWRead }
func (ht *hwTarget) HWSlots() int                        { return 2 }

func (ht *hwTarget) InsertHWPoint(pid int, p inferior.HWPoint) error {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	if ht.used == ht.HWSlots() {
		return errors.New("no free debug register")
	}
	ht.used++
	ht.record("InsertHWPoint %d %d %#x %d", pid, p.Kind, p.Addr, p.Len)
	return nil
}

func (ht *hwTarget) RemoveHWPoint(pid int, p inferior.HWPoint) error {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	ht.used--
	ht.record("RemoveHWPoint %d %d %#x %d", pid, p.Kind, p.Addr, p.Len)
	return nil
}

func TestHWPointPackets(t *testing.T) {
	ht := &hwTarget{fakeTarget: newFakeTarget()}
	h := serveTarget(t, ht, ht.fakeTarget, Config{})
	r := h.exchange("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
	if !strings.Contains(r, ";hwbreak+") {
		t.Errorf("qSupported reply %q lacks hwbreak+", r)
	}
	h.expect("Z1,401136,1", "OK")
	h.expect("Z2,601041,3", "OK")
	h.expect("Z3,601040,4", "")    // x86 has no read watchpoints
	h.expect("Z4,601040,8", "E0f") // no register left
	h.expect("z1,401136,1", "OK")
	h.expect("Z4,601040,8", "OK")
	h.expect("Z1,401136,2", "E02")
	h.expect("Z2,601040,0", "E02")
	h.expect("qWatchpointSupportInfo:", "num:2;")
	want := "InsertHWPoint 100 1 0x401136 1\nInsertHWPoint 100 2 0x601041 3\n" +
		"RemoveHWPoint 100 1 0x401136 1\nInsertHWPoint 100 4 0x601040 8"
	if calls := ht.called(); calls != want {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}

func TestBreakpointPackets(t *testing.T) {
	ft := newFakeTarget()
	h := startSession(t, ft, Config{})
	h.negotiate(gdbFeatures)
	h.expect("Z0,401136,1", "OK")
	h.expect("z0,401136,1", "OK")
	h.expect("Z0,401136,1;X3,220c05", "OK")
	// Hardware breakpoints and watchpoints are unsupported: gdb falls
	// back to software watchpoints.
	for _, p := range []string{"Z1,401136,1", "Z2,601040,4", "z3,601040,4", "Z4,601040,8"} {
		h.expect(p, "")
	}
	h.expect("Z0,401136,2", "E02")
	h.expect("Z5,401136,1", "E01")
	h.expect("Z0,401136", "E01")
	want := "InsertBreakpoint 100 0x401136\nRemoveBreakpoint 100 0x401136\nInsertBreakpoint 100 0x401136"
	if calls := ft.called(); calls != want {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}
