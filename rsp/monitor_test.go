package rsp

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestParseRcmd(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"," + hexs("help"), "help", nil},
		{"," + hexs("set debug 1"), "set debug 1", nil},
		{",", "", nil},
		{",6865", "he", nil},
		{"", "", errMalformed},
		{hexs("help"), "", errMalformed},
		{",686", "", errHexOdd},
		{",zz", "", errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseRcmd([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseRcmd(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseRcmd(f *testing.F) {
	f.Add([]byte("," + hexs("set remote-debug 1")))
	f.Fuzz(func(t *testing.T, in []byte) {
		cmd, err := parseRcmd(in)
		if err != nil {
			return
		}
		p := appendRcmd(nil, cmd)
		again, err := parseRcmd(p[len("qRcmd"):])
		if err != nil || again != cmd {
			t.Fatalf("round trip of %q: %q, %v; want %q", in, again, err, cmd)
		}
	})
}

// A monitor command's output comes as O packets, cut at lines, before
// OK or an error; a command's follow-up runs once the reply is out.
func TestMonitor(t *testing.T) {
	long := strings.Repeat("a line of output that is long enough\n", 40)
	after := make(chan struct{})
	cfg := Config{Monitor: func(cmd string, out io.Writer) (func(), error) {
		switch cmd {
		case "say hello":
			fmt.Fprintln(out, "hello")
		case "long":
			io.WriteString(out, long)
		case "bye":
			return func() { close(after) }, nil
		default:
			fmt.Fprintf(out, "unknown %q\n", cmd)
			return nil, errors.New("unknown command")
		}
		return nil, nil
	}}
	h := startSession(t, newFakeTarget(), cfg)
	for _, tt := range []struct {
		cmd, out string
		err      bool
	}{
		{"  say hello ", "hello\n", false},
		{"long", long, false},
		{"bogus", "unknown \"bogus\"\n", true},
	} {
		out, err := h.c.Monitor(tt.cmd)
		if out != tt.out || (err != nil) != tt.err {
			t.Errorf("monitor %q = %q, %v; want %q, error %v", tt.cmd, out, err, tt.out, tt.err)
		}
	}
	// The long output came in several packets, each a whole number of
	// lines, and the session goes on after each command.
	if err := h.c.Send(string(appendRcmd(nil, "long"))); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		r, err := h.c.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if r == "OK" {
			if n < 2 {
				t.Errorf("long output in %d packets", n)
			}
			break
		}
		text, err := decodeHex(nil, []byte(r[1:]))
		if err != nil || r[0] != 'O' || len(text) > consoleChunk || !strings.HasSuffix(string(text), "\n") {
			t.Fatalf("packet %d: %.60q", n, r)
		}
	}
	select {
	case <-after:
		t.Fatal("follow-up ran before its command")
	default:
	}
	if out, err := h.c.Monitor("bye"); out != "" || err != nil {
		t.Errorf("monitor bye = %q, %v", out, err)
	}
	<-after
	h.expect("qC", "QC64")
}

func TestMonitorUnsupported(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	if _, err := h.c.Monitor("help"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("monitor help without Config.Monitor: %v, want ErrUnsupported", err)
	}
}
