package rsp

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveRaw runs a Session on one end of a socket pair and returns the
// other end and a channel that receives Serve's result.
func serveRaw(t *testing.T, cfg Config) (*Client, interface{ Close() error }, <-chan served) {
	t.Helper()
	a, b := socketPair(t)
	ch := make(chan served, 1)
	s := NewSession(b, newFakeTarget(), cfg)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		out, err := s.Serve(ctx)
		ch <- served{out, err}
	}()
	t.Cleanup(func() {
		cancel()
		b.Close()
	})
	return NewClient(a), a, ch
}

func waitServed(t *testing.T, ch <-chan served, within time.Duration) served {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(within):
		t.Fatalf("Serve did not return within %v", within)
		return served{}
	}
}

// A client that sends requests but never reads the replies: once the
// socket's buffers are full the next write times out and the session
// ends as a disconnect, instead of blocking for ever.
func TestWriteTimeoutEndsSession(t *testing.T) {
	c, _, ch := serveRaw(t, Config{WriteTimeout: 100 * time.Millisecond})
	go func() {
		// Each reply is 2 KiB of hex; a few hundred fill any socket
		// buffer. Stop when the stub stops reading.
		for range 2000 {
			if err := c.Send(fmt.Sprintf("m%x,400", memBase)); err != nil {
				return
			}
		}
	}()
	s := waitServed(t, ch, 10*time.Second)
	if s.out != OutcomeDisconnected || s.err == nil || !strings.Contains(s.err.Error(), "timeout") {
		t.Errorf("Serve = %v, %v; want disconnected by a write timeout", s.out, s.err)
	}
}

// Half a packet, then nothing: the session ends once the packet
// deadline passes.
func TestHalfPacketTimesOut(t *testing.T) {
	c, _, ch := serveRaw(t, Config{PacketTimeout: 100 * time.Millisecond})
	if err := c.WriteRaw([]byte("$m10000,")); err != nil {
		t.Fatal(err)
	}
	s := waitServed(t, ch, 10*time.Second)
	if s.out != OutcomeDisconnected || s.err == nil || !strings.Contains(s.err.Error(), "timeout") {
		t.Errorf("Serve = %v, %v; want disconnected by a read timeout", s.out, s.err)
	}
}

// The packet deadline applies inside packets only: a client may wait as
// long as it likes between packets, and a packet that arrives in pieces
// within the deadline is fine.
func TestPacketTimeoutOnlyInsidePackets(t *testing.T) {
	c, _, ch := serveRaw(t, Config{PacketTimeout: 200 * time.Millisecond})
	if r, err := c.Exchange("qC"); err != nil || r != "QC64" {
		t.Fatalf("qC = %q, %v", r, err)
	}
	time.Sleep(500 * time.Millisecond)
	// "qC" in two pieces, 50 ms apart: well within the deadline.
	if err := c.WriteRaw([]byte("$q")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := c.WriteRaw([]byte("C#b4")); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Receive(); err != nil || r != "QC64" {
		t.Fatalf("qC in pieces = %q, %v", r, err)
	}
	time.Sleep(500 * time.Millisecond)
	if r, err := c.Exchange("qC"); err != nil || r != "QC64" {
		t.Fatalf("qC after a pause = %q, %v", r, err)
	}
	select {
	case s := <-ch:
		t.Fatalf("Serve returned %v, %v", s.out, s.err)
	default:
	}
}

// A flood of over-long packets (each longer than the reader keeps) and
// of small ones: the server refuses the long ones, answers the rest, and
// its memory stays bounded.
func TestFloodBoundedMemory(t *testing.T) {
	// Garbage is collected early, so that the peak measures what is kept
	// even when a loaded machine starves the collector.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	c, _, _ := serveRaw(t, Config{})
	long := "X10000,0:" + strings.Repeat("a", 2*readLimit)
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 20 {
		if r, err := c.Exchange(long); err != nil || !isErrorReply(r) {
			t.Fatalf("over-long packet %d: %q, %v", i, r, err)
		}
		for range 200 {
			if err := c.Send("qC"); err != nil {
				t.Fatal(err)
			}
		}
		for range 200 {
			if r, err := c.Receive(); err != nil || r != "QC64" {
				t.Fatalf("flood: %q, %v", r, err)
			}
		}
	}
	close(done)
	mu.Lock()
	defer mu.Unlock()
	// The client holds the long packet and its framing (2 * 2 readLimit);
	// the server at most readLimit more, plus small change. 20 packets
	// kept would be ten times that.
	if limit := before.HeapInuse + uint64(8*readLimit) + 16<<20; peak > limit {
		t.Errorf("heap in use peaked at %d MiB (from %d MiB) after %d MiB of over-long packets",
			peak>>20, before.HeapInuse>>20, 20*len(long)>>20)
	}
}

// Huge lengths in m, x, qXfer and vFile:pread are capped: the reply never
// exceeds PacketSize and nothing of the asked size is allocated.
func TestHugeLengths(t *testing.T) {
	cfg := fuzzConfig()
	h := startSession(t, newFakeTarget(), cfg)
	h.negotiate(gdbFeatures + ";binary-upload+")
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, p := range []string{
		fmt.Sprintf("m%x,ffffffffffffffff", memBase),
		fmt.Sprintf("m%x,7fffffff", memBase),
		fmt.Sprintf("x%x,ffffffffffffffff", memBase),
		"qXfer:features:read:target.xml:0,ffffffffffffffff",
		"vFile:open:2f62696e2f70726f67,0,0",
		"vFile:pread:0,7fffffffffffffff,0",
	} {
		if r := h.exchange(p); len(r) > packetSize {
			t.Errorf("%s: reply of %d bytes, more than PacketSize %d", p, len(r), packetSize)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("%d MiB allocated for six capped replies", grown>>20)
	}
}
