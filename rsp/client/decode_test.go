package client

import (
	"errors"
	"reflect"
	"testing"

	"procgdb/rsp"
)

// Unit tests of the decoders of stub replies that this package owns; the
// stop replies, thread ids and Host I/O replies are package rsp's.

const (
	// tdescMain is a target.xml in gdbserver's style: numbers given
	// once, then counted, and a feature in a file of its own.
	tdescMain = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386:x86-64</architecture>
  <feature name="org.gnu.gdb.i386.core">
    <flags id="i386_eflags" size="4"><field name="CF" start="0" end="0"/></flags>
    <reg name="rax" bitsize="64" type="int64" regnum="0"/>
    <reg name="rbx" bitsize="64" type="int64"/>
    <reg name="rip" bitsize="64" type="code_ptr" regnum="16"/>
    <reg name="eflags" bitsize="32" type="i386_eflags"/>
  </feature>
  <xi:include href="sse.xml"/>
</target>`
	tdescSSE = `<feature name="org.gnu.gdb.i386.sse">
  <reg name="xmm0" bitsize="128" type="vec128" regnum="40" group="vector"/>
</feature>`
	// tdescLLDB is lldb-server's style: offsets into the g packet, and
	// generic roles.
	tdescLLDB = `<?xml version="1.0"?><target version="1.0"><architecture>x86_64</architecture><feature>` +
		`<reg name="rax" bitsize="64" regnum="0" offset="80" generic="arg9"/>` +
		`<reg name="rbx" bitsize="64" regnum="1" offset="40"/>` +
		`<reg name="rip" bitsize="64" regnum="16" offset="128" generic="pc"/>` +
		`</feature></target>`
)

func fetchFrom(docs map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		d, ok := docs[name]
		if !ok {
			return nil, errors.New("no such document")
		}
		return []byte(d), nil
	}
}

func TestParseDescription(t *testing.T) {
	d, err := parseDescription([]byte(tdescMain), fetchFrom(map[string]string{"sse.xml": tdescSSE}))
	if err != nil {
		t.Fatal(err)
	}
	core := "org.gnu.gdb.i386.core"
	want := []Register{
		{Name: "rax", Number: 0, Size: 8, Offset: 0, Type: "int64", Feature: core},
		{Name: "rbx", Number: 1, Size: 8, Offset: 8, Type: "int64", Feature: core},
		{Name: "rip", Number: 16, Size: 8, Offset: 16, Type: "code_ptr", Feature: core},
		{Name: "eflags", Number: 17, Size: 4, Offset: 24, Type: "i386_eflags", Feature: core},
		{Name: "xmm0", Number: 40, Size: 16, Offset: 28, Type: "vec128", Group: "vector", Feature: "org.gnu.gdb.i386.sse"},
	}
	if d.Architecture != "i386:x86-64" || !reflect.DeepEqual(d.Registers, want) {
		t.Errorf("parseDescription = %q %+v\nwant %+v", d.Architecture, d.Registers, want)
	}
	if r, ok := d.Register("pc"); !ok || r.Name != "rip" {
		t.Errorf(`Register("pc") = %+v, %v; want rip`, r, ok)
	}

	d, err = parseDescription([]byte(tdescLLDB), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range d.Registers {
		names = append(names, r.Name)
	}
	if !reflect.DeepEqual(names, []string{"rbx", "rax", "rip"}) {
		t.Errorf("lldb-server's registers in g order: %q, want rbx, rax, rip", names)
	}
	if r, ok := d.Register("pc"); !ok || r.Name != "rip" || r.Offset != 128 {
		t.Errorf(`Register("pc") = %+v, %v; want rip at 128`, r, ok)
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	loop := map[string]string{"a.xml": `<feature><xi:include href="a.xml"/></feature>`}
	for _, doc := range []string{
		`<target><reg name="a" bitsize="7"/></target>`,
		`<target><reg name="a" bitsize="x"/></target>`,
		`<target><reg bitsize="8"/></target>`,
		`<target><reg name="a" bitsize="8" regnum="-1"/></target>`,
		`<target><reg name="a" bitsize="8"/><reg name="a" bitsize="8"/></target>`,
		`<target><xi:include href="missing.xml"/></target>`,
		`<target><xi:include href="a.xml"/></target>`,
		`<target><xi:include/></target>`,
		`<target><architecture>`,
	} {
		if d, err := parseDescription([]byte(doc), fetchFrom(loop)); err == nil {
			t.Errorf("parseDescription(%q) = %+v, want an error", doc, d)
		}
	}
}

func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(tdescMain))
	f.Add([]byte(tdescLLDB))
	f.Add([]byte(tdescSSE))
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := parseDescription(doc, fetchFrom(map[string]string{"sse.xml": tdescSSE}))
		if err != nil {
			return
		}
		for i, r := range d.Registers {
			if r.Size <= 0 || r.Offset < 0 {
				t.Fatalf("register %+v", r)
			}
			if got, ok := d.Register(r.Name); !ok || got != d.Registers[i] {
				t.Fatalf("Register(%q) = %+v, %v; want %+v", r.Name, got, ok, r)
			}
		}
	})
}

func TestParseThreadList(t *testing.T) {
	doc := `<?xml version="1.0"?>
<threads>
<thread id="p1f2.1f2" core="3" name="main"/>
<thread id="p1f2.1f3" name="a &amp; b">extra info</thread>
</threads>`
	got, err := parseThreadList([]byte(doc))
	want := []Thread{
		{ID: ThreadID{PID: 0x1f2, TID: 0x1f2}, Name: "main", Core: 3},
		{ID: ThreadID{PID: 0x1f2, TID: 0x1f3}, Name: "a & b", Core: -1},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseThreadList = %+v, %v; want %+v", got, err, want)
	}
	for _, doc := range []string{`<threads><thread id="x"/></threads>`, `<threads><thread id="1" core="z"/></threads>`, `<threads>`} {
		if got, err := parseThreadList([]byte(doc)); err == nil {
			t.Errorf("parseThreadList(%q) = %+v, want an error", doc, got)
		}
	}
}

func FuzzParseThreadList(f *testing.F) {
	f.Add([]byte(`<threads><thread id="p1.2" core="0" name="x"/></threads>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		parseThreadList(doc)
	})
}

func TestParseThreadInfo(t *testing.T) {
	tests := []struct {
		in   string
		ids  []ThreadID
		more bool
	}{
		{"mp1.2,p1.3", []ThreadID{{PID: 1, TID: 2}, {PID: 1, TID: 3}}, true},
		{"m48fc", []ThreadID{{TID: 0x48fc}}, true},
		{"l", nil, false},
	}
	for _, tt := range tests {
		ids, more, err := parseThreadInfo(tt.in)
		if err != nil || more != tt.more || !reflect.DeepEqual(ids, tt.ids) {
			t.Errorf("parseThreadInfo(%q) = %v, %v, %v; want %v, %v", tt.in, ids, more, err, tt.ids, tt.more)
		}
	}
	for _, in := range []string{"", "x", "m", "m1,", "mp1.z"} {
		if _, _, err := parseThreadInfo(in); err == nil {
			t.Errorf("parseThreadInfo(%q): no error", in)
		}
	}
}

func FuzzParseThreadInfo(f *testing.F) {
	f.Add("mp1.2,p1.3")
	f.Fuzz(func(t *testing.T, in string) {
		ids, _, err := parseThreadInfo(in)
		if err != nil {
			return
		}
		// Each id re-encodes to what parses the same.
		for _, id := range ids {
			again, err := rsp.ParseThreadID(rsp.AppendThreadID(nil, id, true))
			if err != nil || again != id {
				t.Fatalf("%+v: %+v, %v", id, again, err)
			}
		}
	})
}

func TestParseLibraries(t *testing.T) {
	doc := `<library-list-svr4 version="1.0" main-lm="0x7ffff7ffe2e0">
  <library name="/lib/x86_64-linux-gnu/libc.so.6" lm="0x7ffff7fc3000" l_addr="0x7ffff7dd5000" l_ld="0x7ffff7f9c8c0" lmid="0x0"/>
</library-list-svr4>`
	got, err := parseLibraries([]byte(doc))
	want := []Library{{Name: "/lib/x86_64-linux-gnu/libc.so.6", LM: 0x7ffff7fc3000, Addr: 0x7ffff7dd5000, LD: 0x7ffff7f9c8c0}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseLibraries = %+v, %v; want %+v", got, err, want)
	}
	if got, err := parseLibraries([]byte(`<library-list-svr4><library name="a" lm="x"/></library-list-svr4>`)); err == nil {
		t.Errorf("parseLibraries with a bad lm = %+v, want an error", got)
	}
}

func FuzzParseLibraries(f *testing.F) {
	f.Add([]byte(`<library-list-svr4><library name="a" lm="0x1" l_addr="0x2" l_ld="0x3"/></library-list-svr4>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		parseLibraries(doc)
	})
}

func TestParseAuxv(t *testing.T) {
	b := []byte{
		9, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0, 0, 0, 0, 0, 0, // AT_ENTRY 0x1040
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // AT_NULL
		6, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, // after the end
	}
	if got := parseAuxv(b); !reflect.DeepEqual(got, []AuxEntry{{Tag: 9, Value: 0x1040}}) {
		t.Errorf("parseAuxv = %+v", got)
	}
}

func FuzzParseAuxv(f *testing.F) {
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v := parseAuxv(b); len(v) > len(b)/16 {
			t.Fatalf("%d entries from %d bytes", len(v), len(b))
		}
	})
}

func TestParseFeatures(t *testing.T) {
	got := parseFeatures("PacketSize=47ff;QStartNoAckMode+;multiprocess+;hwbreak-;swbreak?;;+;x=")
	want := map[string]string{"PacketSize": "47ff", "QStartNoAckMode": "+", "multiprocess": "+", "hwbreak": "-", "swbreak": "?", "x": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseFeatures = %v, want %v", got, want)
	}
	acts := parseVContActions("vCont;c;C;s;S;r")
	if !reflect.DeepEqual(acts, map[byte]bool{'c': true, 'C': true, 's': true, 'S': true, 'r': true}) {
		t.Errorf("parseVContActions = %v", acts)
	}
	if acts := parseVContActions("OK"); acts != nil {
		t.Errorf("parseVContActions(OK) = %v, want nil", acts)
	}
}

func FuzzParseFeatures(f *testing.F) {
	f.Add("PacketSize=47ff;QStartNoAckMode+;vCont;c;s")
	f.Fuzz(func(t *testing.T, r string) {
		parseFeatures(r)
		parseVContActions(r)
	})
}

func TestRegisterValue(t *testing.T) {
	if got := RegisterValue([]byte{1, 2}).Uint64(); got != 0x201 {
		t.Errorf("Uint64 of 2 bytes = %#x", got)
	}
	if got := Uint64Value(0x1122334455667788).Uint64(); got != 0x1122334455667788 {
		t.Errorf("Uint64Value round trip = %#x", got)
	}
	if v, err := Uint64Value(0x11).fit(4); err != nil || !reflect.DeepEqual(v, RegisterValue{0x11, 0, 0, 0}) {
		t.Errorf("fit(4) of a small 8-byte value = %v, %v", v, err)
	}
	if v, err := RegisterValue([]byte{1}).fit(16); err != nil || len(v) != 16 || v[0] != 1 {
		t.Errorf("fit(16) of one byte = %v, %v", v, err)
	}
	if _, err := Uint64Value(1 << 40).fit(4); err == nil {
		t.Error("fit(4) of a value that does not fit: no error")
	}
}

func TestFitEscaped(t *testing.T) {
	p := []byte("ab$#}*cd")
	for budget := 1; budget < 20; budget++ {
		k := fitEscaped(p, budget)
		if k < 1 || k > len(p) || k > 1 && rsp.EscapedLen(p[:k]) > budget {
			t.Errorf("fitEscaped(%q, %d) = %d, which does not fit", p, budget, k)
		}
		if budget >= 12 && k != len(p) {
			t.Errorf("fitEscaped(%q, %d) = %d, want all %d", p, budget, k, len(p))
		}
	}
}
