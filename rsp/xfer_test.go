package rsp

import (
	"errors"
	"testing"
)

func TestParseXfer(t *testing.T) {
	tests := []struct {
		in   string
		want xferRead
		err  error
	}{
		{"target.xml:0,ffb", xferRead{"target.xml", 0, 0xffb}, nil},
		{":1000,1000", xferRead{"", 0x1000, 0x1000}, nil},
		{"start=0x1;prev=0x2:0,fff", xferRead{"start=0x1;prev=0x2", 0, 0xfff}, nil},
		{"a:b:0,1", xferRead{"a:b", 0, 1}, nil},
		{"target.xml", xferRead{}, errMalformed},
		{"target.xml:0", xferRead{}, errMalformed},
		{"target.xml:,1", xferRead{}, errHexEmpty},
		{"target.xml:0,x", xferRead{}, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseXfer([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseXfer(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseXfer(f *testing.F) {
	f.Add([]byte("target.xml:0,ffb"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseXfer(in)
		if err != nil {
			return
		}
		again, err := parseXfer(appendXfer(nil, r))
		if err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func TestLibrariesXML(t *testing.T) {
	got, err := librariesXML(0x7f0000001000, []Library{
		{Name: "/lib/x86_64-linux-gnu/libc.so.6", LM: 0x7f0000002000, Addr: 0x7f0000100000, LD: 0x7f0000300000},
		{Name: `/tmp/a&b<"c">`, LM: 0x10, Addr: 0, LD: 0x20},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `<library-list-svr4 version="1.0" main-lm="0x7f0000001000">
<library name="/lib/x86_64-linux-gnu/libc.so.6" lm="0x7f0000002000" l_addr="0x7f0000100000" l_ld="0x7f0000300000" lmid="0x0"/>
<library name="/tmp/a&amp;b&lt;&#34;c&#34;&gt;" lm="0x10" l_addr="0x0" l_ld="0x20" lmid="0x0"/>
</library-list-svr4>
`
	if string(got) != want {
		t.Errorf("librariesXML =\n%s\nwant\n%s", got, want)
	}
	empty, err := librariesXML(0, nil)
	if err != nil || string(empty) != "<library-list-svr4 version=\"1.0\">\n</library-list-svr4>\n" {
		t.Errorf("librariesXML of nothing = %q, %v", empty, err)
	}
}
