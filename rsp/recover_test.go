package rsp

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A handler that panics gets an error reply, the panic is logged, and the
// session goes on.
func TestHandlerPanicIsAnError(t *testing.T) {
	a, b := socketPair(t)
	var logs bytes.Buffer
	s := NewSession(b, newFakeTarget(), Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.packets = append([]entry{{prefix: "qProcgdbPanic", handle: func(*Session, []byte) reply { panic("boom") }}}, s.packets...)
	go s.Serve(t.Context())
	c := NewClient(a)
	if r, err := c.Exchange("qProcgdbPanic"); err != nil || !strings.HasPrefix(r, "E") {
		t.Fatalf("qProcgdbPanic = %q, %v; want an error reply", r, err)
	}
	if r, err := c.Exchange("qC"); err != nil || r != "QC64" {
		t.Fatalf("qC after the panic = %q, %v", r, err)
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
}
