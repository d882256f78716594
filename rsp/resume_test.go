package rsp

import (
	"errors"
	"reflect"
	"testing"
)

var all = ThreadID{AllThreads, AllThreads}

func TestParseVCont(t *testing.T) {
	tests := []struct {
		in   string
		want []vContAction
		err  error
	}{
		{";c", []vContAction{{thread: all}}, nil},
		{";s:1f3;c", []vContAction{{step: true, thread: ThreadID{AnyThread, 0x1f3}}, {thread: all}}, nil},
		{";S05:p1f2.1f3;c:p1f2.-1", []vContAction{
			{step: true, signal: 5, thread: ThreadID{0x1f2, 0x1f3}},
			{thread: ThreadID{0x1f2, AllThreads}},
		}, nil},
		{";C0b:-1", []vContAction{{signal: 11, thread: all}}, nil},
		{";c:p-1.-1", []vContAction{{thread: all}}, nil},
		{"", nil, errMalformed},
		{";", nil, errMalformed},
		{";c;", nil, errMalformed},
		{"c", nil, errMalformed},
		{";cc", nil, errMalformed},
		{";t", nil, errUnsupported},
		{";r1000,2000:p1.1", nil, errUnsupported},
		{";C", nil, errHexEmpty},
		{";C100", nil, errHexOverflow},
		{";c:", nil, errHexEmpty},
		{";c:pz", nil, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseVCont([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseVCont(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseVCont(f *testing.F) {
	f.Add([]byte(";s:p1f2.1f3;c"))
	f.Add([]byte(";C0b:-1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		actions, err := parseVCont(in)
		if err != nil {
			return
		}
		again, err := parseVCont(appendVCont(nil, actions))
		if err != nil || !reflect.DeepEqual(again, actions) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, actions)
		}
	})
}

func TestParseLegacyResume(t *testing.T) {
	tests := []struct {
		in         string
		withSignal bool
		want       legacyResume
		err        error
	}{
		{"", false, legacyResume{}, nil},
		{"401136", false, legacyResume{addr: 0x401136, hasAddr: true}, nil},
		{"0b", true, legacyResume{signal: 11}, nil},
		{"0b;401136", true, legacyResume{signal: 11, addr: 0x401136, hasAddr: true}, nil},
		{"", true, legacyResume{}, errHexEmpty},
		{"0b;", true, legacyResume{}, errHexEmpty},
		{"xyz", false, legacyResume{}, errHexDigit},
		{"123", true, legacyResume{}, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseLegacyResume([]byte(tt.in), tt.withSignal)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseLegacyResume(%q, %v) = %+v, %v; want %+v, %v", tt.in, tt.withSignal, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseLegacyResume(f *testing.F) {
	f.Add([]byte("0b;401136"), true)
	f.Add([]byte("401136"), false)
	f.Fuzz(func(t *testing.T, in []byte, withSignal bool) {
		_, _ = parseLegacyResume(in, withSignal)
	})
}

func TestParseSetThread(t *testing.T) {
	tests := []struct {
		in   string
		want setThread
		err  error
	}{
		{"g0", setThread{'g', ThreadID{AnyThread, AnyThread}}, nil},
		{"gp1f2.1f3", setThread{'g', ThreadID{0x1f2, 0x1f3}}, nil},
		{"c-1", setThread{'c', all}, nil},
		{"m0", setThread{}, errMalformed},
		{"", setThread{}, errMalformed},
		{"g", setThread{}, errHexEmpty},
	}
	for _, tt := range tests {
		got, err := parseSetThread([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseSetThread(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseSetThread(f *testing.F) {
	f.Add([]byte("gp1f2.1f3"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := parseSetThread(in)
		if err != nil {
			return
		}
		again, err := parseSetThread(appendThreadID([]byte{h.op}, h.thread, true))
		if err != nil || again != h {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, h)
		}
	})
}
