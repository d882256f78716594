package rsp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// yielding serves a session whose Serve the test calls again after each
// OutcomeYielded.
type yielding struct {
	t      *testing.T
	s      *Session
	served chan served
}

func startYielding(t *testing.T, ft *fakeTarget) (*yielding, *Client) {
	t.Helper()
	a, b := socketPair(t)
	y := &yielding{t: t, s: NewSession(b, ft, Config{}), served: make(chan served, 1)}
	y.serve()
	return y, NewClient(a)
}

// serve calls Serve on a goroutine of its own, as procgdb's daemon serves
// a session on one goroutine and then on another.
func (y *yielding) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	y.t.Cleanup(cancel)
	go func() {
		out, err := y.s.Serve(ctx)
		y.served <- served{out, err}
	}()
}

// yielded waits for Serve to return OutcomeYielded.
func (y *yielding) yielded() {
	y.t.Helper()
	if s := waitFor(y.t, "Serve", y.served); s.out != OutcomeYielded || s.err != nil {
		y.t.Fatalf("Serve = %v, %v; want yielded", s.out, s.err)
	}
}

// TestYieldKeepsTheSession: a session that yields while it waits for a
// packet returns at once, and served again, with another target, it keeps
// what the client negotiated (no acknowledgments, multiprocess ids) and
// answers from the new target.
func TestYieldKeepsTheSession(t *testing.T) {
	ft := newFakeTarget()
	y, c := startYielding(t, ft)
	if r, err := c.Exchange(gdbFeatures); err != nil || !strings.HasPrefix(r, "PacketSize=") {
		t.Fatalf("qSupported = %q, %v", r, err)
	}
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Exchange("qC"); err != nil || r != "QCp64.64" {
		t.Fatalf("qC = %q, %v", r, err)
	}
	if !y.s.Yield() {
		t.Fatal("Yield on a socket: false")
	}
	y.yielded()

	other := newFakeTarget()
	other.procs = []int{0x200}
	other.threads = map[int][]int{0x200: {0x200}}
	y.s.SetTarget(other)
	y.serve()
	if r, err := c.Exchange("qfThreadInfo"); err != nil || r != "mp200.200" {
		t.Errorf("qfThreadInfo after the yield = %q, %v; want the new target's thread in multiprocess form", r, err)
	}
	c.Close()
	if s := waitFor(t, "Serve", y.served); s.out != OutcomeDisconnected {
		t.Errorf("Serve = %v, %v; want disconnected", s.out, s.err)
	}
}

// TestYieldBeforeServe: a Yield that comes before Serve starts is not
// lost.
func TestYieldBeforeServe(t *testing.T) {
	a, b := socketPair(t)
	defer a.Close()
	s := NewSession(b, newFakeTarget(), Config{})
	s.Yield()
	out, err := s.Serve(t.Context())
	if out != OutcomeYielded || err != nil {
		t.Fatalf("Serve = %v, %v; want yielded", out, err)
	}
}

// TestYieldNeverSplitsAPacket: packets that arrive in pieces while the
// session yields, over and over, are each answered once, in order: a
// Yield that comes inside a packet waits for its end.
func TestYieldNeverSplitsAPacket(t *testing.T) {
	y, c := startYielding(t, newFakeTarget())
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		p := fmt.Sprintf("qThreadExtraInfo,%x", 0x64+i%2)
		frame := fmt.Appendf(nil, "$%s#%02x", p, checksum([]byte(p)))
		half := 1 + i%(len(frame)-1)
		if err := c.WriteRaw(frame[:half]); err != nil {
			t.Fatal(err)
		}
		y.s.Yield()
		if err := c.WriteRaw(frame[half:]); err != nil {
			t.Fatal(err)
		}
		y.yielded()
		y.serve()
		r, err := c.Receive()
		if err != nil || r == "" || strings.HasPrefix(r, "E") {
			t.Fatalf("packet %d, yielded after %d bytes: reply %q, %v", i, half, r, err)
		}
	}
	c.Close()
	if s := waitFor(t, "Serve", y.served); s.out != OutcomeDisconnected {
		t.Errorf("Serve = %v, %v; want disconnected", s.out, s.err)
	}
}

// TestRefuse: a refused client's first packet gets the reason as E.text,
// whether it is gdb's qSupported or lldb's QStartNoAckMode after its +.
func TestRefuse(t *testing.T) {
	for _, first := range []string{"$" + gdbFeatures, "+$QStartNoAckMode"} {
		t.Run(first[:min(len(first), 12)], func(t *testing.T) {
			a, b := socketPair(t)
			done := make(chan error, 1)
			go func() { done <- Refuse(b, errors.New("process 5 belongs to another user: #5")) }()
			start := strings.IndexByte(first, '$') + 1
			c := NewClient(a)
			if err := c.WriteRaw(fmt.Appendf(nil, "%s#%02x", first, checksum([]byte(first[start:])))); err != nil {
				t.Fatal(err)
			}
			if ack, err := c.ReadAck(); err != nil || ack != '+' {
				t.Fatalf("ack = %q, %v", ack, err)
			}
			r, err := c.Receive()
			if err != nil || r != "E.process 5 belongs to another user: ?5" {
				t.Errorf("reply = %q, %v", r, err)
			}
			// Refuse waits for the client's next packet, or its end.
			c.Close()
			if err := waitFor(t, "Refuse", done); err != nil {
				t.Error(err)
			}
		})
	}
}
