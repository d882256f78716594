package rsp

import (
	"errors"
	"maps"
	"reflect"
	"testing"
)

func TestParseQSupported(t *testing.T) {
	gdb := ":multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;" +
		"vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386"
	tests := []struct {
		in   string
		want clientFeatures
		err  error
	}{
		{"", clientFeatures{}, nil},
		{gdb, clientFeatures{
			"multiprocess": "+", "swbreak": "+", "hwbreak": "+", "qRelocInsn": "+",
			"fork-events": "+", "vfork-events": "+", "exec-events": "+", "vContSupported": "+",
			"QThreadEvents": "+", "no-resumed": "+", "memory-tagging": "+", "xmlRegisters": "=i386",
		}, nil},
		{":xmlRegisters=i386,arm,mips,arc;multiprocess+", clientFeatures{"xmlRegisters": "=i386,arm,mips,arc", "multiprocess": "+"}, nil},
		{":a-;b?;", clientFeatures{"a": "-", "b": "?"}, nil},
		{"multiprocess+", nil, errMalformed},
		{":multiprocess", nil, errMalformed},
	}
	for _, tt := range tests {
		got, err := parseQSupported([]byte(tt.in))
		if !errors.Is(err, tt.err) || !maps.Equal(got, tt.want) {
			t.Errorf("parseQSupported(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	f, _ := parseQSupported([]byte(gdb))
	if !f.offered("swbreak") || f.offered("error-message") || f.offered("xmlRegisters") {
		t.Errorf("offered() wrong for %v", f)
	}
}

func FuzzParseQSupported(f *testing.F) {
	f.Add([]byte(":multiprocess+;xmlRegisters=i386"))
	f.Fuzz(func(t *testing.T, in []byte) {
		features, err := parseQSupported(in)
		if err != nil {
			return
		}
		again, err := parseQSupported(appendQSupported(nil, features))
		if err != nil || !maps.Equal(again, features) {
			t.Fatalf("round trip of %q: %v, %v; want %v", in, again, err, features)
		}
	})
}

func TestParseSignalList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  error
	}{
		{"", nil, nil},
		{"e", []int{14}, nil},
		{"e;14;4c", []int{14, 20, 76}, nil},
		{"e;14;4c;", []int{14, 20, 76}, nil}, // as gdb sends it
		{";", nil, nil},
		{"100", nil, errHexOverflow},
		{"x", nil, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseSignalList([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseSignalList(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseSignalList(f *testing.F) {
	f.Add([]byte("e;14;4c"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sigs, err := parseSignalList(in)
		if err != nil {
			return
		}
		var enc []byte
		for i, s := range sigs {
			if i > 0 {
				enc = append(enc, ';')
			}
			enc = appendHexUint(enc, uint64(s))
		}
		again, err := parseSignalList(enc)
		if err != nil || !reflect.DeepEqual(again, sigs) {
			t.Fatalf("round trip of %q: %v, %v; want %v", in, again, err, sigs)
		}
	})
}

func TestParsePID(t *testing.T) {
	tests := []struct {
		in  string
		sep byte
		pid int
		ok  bool
		err error
	}{
		{"", ';', 0, false, nil},
		{";1f2", ';', 0x1f2, true, nil},
		{":1f2", ':', 0x1f2, true, nil},
		{":1f2", ';', 0, false, errMalformed},
		{";", ';', 0, false, errHexEmpty},
	}
	for _, tt := range tests {
		pid, ok, err := parsePID([]byte(tt.in), tt.sep)
		if !errors.Is(err, tt.err) || pid != tt.pid || ok != tt.ok {
			t.Errorf("parsePID(%q, %q) = %d, %v, %v; want %d, %v, %v", tt.in, tt.sep, pid, ok, err, tt.pid, tt.ok, tt.err)
		}
	}
}

func FuzzParsePID(f *testing.F) {
	f.Add([]byte(";1f2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pid, ok, err := parsePID(in, ';')
		if err != nil || !ok {
			return
		}
		again, ok, err := parsePID(appendHexUint([]byte{';'}, uint64(pid)), ';')
		if err != nil || !ok || again != pid {
			t.Fatalf("round trip of %q: %d, %v; want %d", in, again, err, pid)
		}
	})
}

func TestThreadExtraInfo(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	h.expect("qThreadExtraInfo,p64.65", hexs("w<101>"))
	h.expect("qThreadExtraInfo,65", hexs("w<101>"))
	h.expect("qThreadExtraInfo,p64.0", hexs("w<100>"))
	h.expect("qThreadExtraInfo,p64.99", "E02")
	h.expect("qThreadExtraInfo", "E01")
	h.expect("qThreadExtraInfo,zz", "E01")
}
