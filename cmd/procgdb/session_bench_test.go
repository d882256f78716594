package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// Benchmarks of whole round trips through procgdb's session and tracer
// against a real child (the bench command's target), over loopback TCP as
// a client would connect: profile them with
//
//	go test ./cmd/procgdb -run X -bench Session -cpuprofile cpu.out

// benchSession serves the bench target under a Session and returns a
// client stopped at the target's first SIGTRAP, and the thread id.
func benchSession(b *testing.B, mib int) (*rsp.Client, string) {
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skip("gcc not installed")
	}
	dir := b.TempDir()
	prog := filepath.Join(dir, "target")
	out, err := exec.Command("gcc", "-O1", "-no-pie", "-o", prog, "../procgdb-bench/csrc/target.c").CombinedOutput()
	if err != nil {
		b.Fatalf("gcc: %v\n%s", err, out)
	}
	layout, err := regs.HostLayout()
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	// The goroutine that launches is the tracer's loop: it serves the
	// session, and closes the tracer when the session ends.
	launched := make(chan error, 1)
	go func() {
		tt := &tracee{tr: target.NewTracer(layout, nil), stderr: io.Discard}
		defer tt.c().Close()
		_, err := tt.launch(rsp.LaunchSpec{Program: prog, Args: []string{fmt.Sprint(mib), "1", "1000000000"}})
		launched <- err
		if err != nil {
			return
		}
		c, err := l.Accept()
		if err != nil {
			return
		}
		lk, err := newSocketLink(c)
		if err != nil {
			return
		}
		defer lk.release()
		lk.use(tt.tr)
		tt.link = lk
		rsp.NewSession(lk, tt, rsp.Config{TargetXML: layout.TargetXML()}).Serve(context.Background())
	}()
	if err := <-launched; err != nil {
		b.Fatal(err)
	}
	c, err := rsp.Dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.StartNoAck(); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"qSupported:multiprocess-;swbreak+;qRelocInsn+;vContSupported+", "?", "vCont;c"} {
		if _, err := c.Exchange(p); err != nil {
			b.Fatal(err)
		}
	}
	r, _ := c.Exchange("?")
	_, rest, _ := strings.Cut(r, "thread:")
	tid, _, _ := strings.Cut(rest, ";")
	return c, tid
}

// exchangeLoop sends p and checks the reply, over and over. It uses
// ExchangeBytes, as bulk readers do, so that the client's copy of each
// reply into a string is not what is measured.
func exchangeLoop(b *testing.B, c *rsp.Client, p string, want func([]byte) bool) {
	req := []byte(p)
	for b.Loop() {
		r, err := c.ExchangeBytes(req)
		if err != nil || !want(r) {
			b.Fatalf("%s: %.40q, %v", p, r, err)
		}
	}
}

func BenchmarkSessionStep(b *testing.B) {
	c, tid := benchSession(b, 1)
	exchangeLoop(b, c, "vCont;s:"+tid, func(r []byte) bool { return bytes.HasPrefix(r, []byte("T05")) })
}

func BenchmarkSessionG(b *testing.B) {
	c, _ := benchSession(b, 1)
	exchangeLoop(b, c, "g", func(r []byte) bool { return len(r) > 200 })
}

func BenchmarkSessionP(b *testing.B) {
	c, _ := benchSession(b, 1)
	exchangeLoop(b, c, "p10", func(r []byte) bool { return len(r) == 16 })
}

func BenchmarkSessionSmallRead(b *testing.B) {
	c, _ := benchSession(b, 1)
	exchangeLoop(b, c, "m200000100,8", func(r []byte) bool { return len(r) == 16 })
}

func BenchmarkSessionRead(b *testing.B) {
	c, _ := benchSession(b, 16)
	b.SetBytes(512 << 10)
	exchangeLoop(b, c, "m200000000,80000", func(r []byte) bool { return len(r) == 1<<20 })
}

func BenchmarkSessionReadBinary(b *testing.B) {
	c, _ := benchSession(b, 16)
	b.SetBytes(1<<20 - 64)
	exchangeLoop(b, c, "x200000000,fffc0", func(r []byte) bool { return len(r) == 1<<20-64+1 })
}

func BenchmarkSessionWriteBinary(b *testing.B) {
	c, _ := benchSession(b, 16)
	data := make([]byte, 900<<10)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	req := append([]byte(fmt.Sprintf("X200000000,%x:", len(data))), data...)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := c.ExchangeBytes(req)
		if err != nil || string(r) != "OK" {
			b.Fatalf("X: %q, %v", r, err)
		}
	}
}
