package rsp

import (
	"bytes"
	"errors"
	"io"
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

// panicReader is a connection whose reads panic.
type panicReader struct{ io.Writer }

func (panicReader) Read([]byte) (int, error) { panic("reader boom") }

// TestReaderPanicEndsTheSession: a panic while reading the connection
// ends the session with an error, logged, and not the program.
func TestReaderPanicEndsTheSession(t *testing.T) {
	var logs bytes.Buffer
	s := NewSession(panicReader{io.Discard}, newFakeTarget(), Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	out, err := s.Serve(t.Context())
	if out != OutcomeDisconnected || !errors.Is(err, errInternal) {
		t.Errorf("Serve = %v, %v; want disconnected with an internal error", out, err)
	}
	if !strings.Contains(logs.String(), "reader panicked") || !strings.Contains(logs.String(), "reader boom") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
}
