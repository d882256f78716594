package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"procgdb/rsp"
)

// base is where the target maps its memory (target.c).
const base = 0x200000000

// golden and mix generate the target's pattern: word i of a seed's
// pattern is mix(seed + (i+1)*golden), splitmix64, as in target.c.
const golden = 0x9e3779b97f4a7c15

func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// fillPattern fills p (a multiple of 8 bytes, starting at word 0) with the
// pattern of seed.
func fillPattern(p []byte, seed uint64) {
	for i := 0; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], mix(seed+uint64(i/8+1)*golden))
	}
}

// errNA marks an operation the stub does not support.
var errNA = errors.New("n/a")

// session is the bench's connection to one stub, which it drives as gdb
// does (or as lldb does, for lldb-server).
type session struct {
	c      *rsp.Client
	stub   *stubProc
	pid    int // the stub's pid, for its CPU time
	packet int // the stub's PacketSize
	xRead  bool
	xB     bool // x replies start with 'b' (gdb's dialect)
	xWrite bool
	tid    string
	buf    []byte
}

// open negotiates with the stub and runs the target to its first stop.
func open(ctx context.Context, p *stubProc) (*session, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, stub: p, pid: p.cmd.Process.Pid}
	if err := c.StartNoAck(); err != nil {
		return nil, fmt.Errorf("QStartNoAckMode: %w", err)
	}
	query := "qSupported:multiprocess-;swbreak+;qRelocInsn+;vContSupported+;binary-upload+"
	if p.kind.lldb {
		query = "qSupported:xmlRegisters=i386,arm,mips,arc"
	}
	r, err := s.exchange(query)
	if err != nil {
		return nil, err
	}
	s.packet = 0x3fff // the manual's default when PacketSize is not given
	for f := range strings.SplitSeq(r, ";") {
		if v, ok := strings.CutPrefix(f, "PacketSize="); ok {
			n, err := strconv.ParseUint(v, 16, 32)
			if err == nil {
				s.packet = int(n)
			}
		}
		if f == "binary-upload+" && !p.kind.lldb {
			s.xRead, s.xB = true, true
		}
	}
	if p.kind.lldb {
		r, err := s.exchange("x0,0")
		s.xRead = err == nil && r == "OK"
	}
	if _, err := s.exchange("?"); err != nil {
		return nil, err
	}
	s.c.Exchange("Hg0") // gdb selects a thread before it reads registers
	if err := s.resume("vCont;c"); err != nil {
		return nil, fmt.Errorf("run to the first stop: %w", err)
	}
	// gdb's probe for X, once the region is mapped (gdbserver checks the
	// address even of an empty write).
	r, err = s.exchange(fmt.Sprintf("X%x,0:", base))
	s.xWrite = err == nil && r == "OK"
	return s, nil
}

// exchange sends a packet and returns its reply, failing on error replies.
func (s *session) exchange(p string) (string, error) {
	r, err := s.c.Exchange(p)
	if err != nil {
		return "", err
	}
	if len(r) == 3 && r[0] == 'E' {
		return r, fmt.Errorf("%.30s: %s", p, r)
	}
	return r, nil
}

// resume resumes and checks that the target stopped with SIGTRAP,
// remembering the thread.
func (s *session) resume(p string) error {
	r, err := s.exchange(p)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r, "T05") && !strings.HasPrefix(r, "S05") {
		return fmt.Errorf("%s: stop %.60q, want SIGTRAP", p, r)
	}
	if _, rest, ok := strings.Cut(r, "thread:"); ok {
		tid, _, _ := strings.Cut(rest, ";")
		if i := strings.IndexByte(tid, '.'); i >= 0 {
			tid = tid[i+1:]
		}
		s.tid = tid
	}
	return nil
}

// startSession starts stub k serving prog with progArgs and opens a
// session with it; close ends both.
func startSession(ctx context.Context, k stubKind, prog string, progArgs []string) (*session, error) {
	p, err := startStub(k, prog, progArgs)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, p)
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\n%s", err, p.out.String())
	}
	return s, nil
}

// close kills the target and ends the session and its stub.
func (s *session) close() {
	s.c.SetDeadline(time.Now().Add(2 * time.Second))
	s.c.Send("k")
	s.c.Close()
	s.stub.stop()
}

// measure runs op and returns its wall time and the stub's CPU time.
func (s *session) measure(op func() error) (wall, cpu time.Duration, err error) {
	c0, _ := cpuNanos(s.pid)
	t0 := time.Now()
	err = op()
	wall = time.Since(t0)
	c1, _ := cpuNanos(s.pid)
	return wall, time.Duration(c1 - c0), err
}

// inFlight is how many requests a bulk read or write keeps outstanding:
// with a second request queued, the stub builds one reply while the client
// takes the last one apart, so the two share the machine's two cores
// instead of taking turns. gdb and lldb send one request at a time; every
// stub is measured the same way here.
const inFlight = 2

// pipeline keeps up to inFlight requests for parts of the region
// outstanding and returns their replies in order.
type pipeline struct {
	s      *session
	budget time.Duration // 0 for no limit
	// build returns the request for the bytes from off on, and how many
	// it covers.
	build func(off int) (req []byte, n int)
	// take handles the reply r to the request for n bytes at off. It
	// returns where to send the next request from, to fill a gap a short
	// reply left, or -1 to go on.
	take func(off, n int, r []byte) (restart int, err error)
}

// run requests the region's bytes [0, size) until budget has passed and
// hands every reply to take.
func (p *pipeline) run(size int) error {
	type pending struct{ off, n int }
	var queue []pending // oldest first
	t0 := time.Now()
	sent := 0
	for {
		for len(queue) < inFlight && sent < size && (p.budget == 0 || time.Since(t0) <= p.budget) {
			req, n := p.build(sent)
			if err := p.s.c.SendBytes(req); err != nil {
				return err
			}
			queue = append(queue, pending{sent, n})
			sent += n
		}
		if len(queue) == 0 {
			return nil
		}
		q := queue[0]
		queue = queue[1:]
		r, err := p.s.receive(fmt.Appendf(nil, "request at %#x", base+q.off))
		if err != nil {
			return err
		}
		restart, err := p.take(q.off, q.n, r)
		if err != nil {
			return err
		}
		if restart >= 0 {
			sent = restart
		}
	}
}

// raw sends a packet and returns the reply in the client's buffer.
func (s *session) raw(p []byte) ([]byte, error) {
	if err := s.c.SendBytes(p); err != nil {
		return nil, err
	}
	return s.receive(p)
}

// receive returns the next reply, to request p, in the client's buffer.
func (s *session) receive(p []byte) ([]byte, error) {
	r, err := s.c.ReceiveBytes()
	if err != nil {
		return nil, err
	}
	if len(r) == 3 && r[0] == 'E' || len(r) > 1 && r[0] == 'E' && r[1] == '.' {
		return nil, fmt.Errorf("%.30s: %s", p, r)
	}
	return r, nil
}

// readAll reads len(dst) bytes at base with m (binary false) or x, each
// request as large as the stub allows, into dst, inFlight requests at a
// time.
//
// It stops early, returning how much it read, once budget has passed
// (0 for no limit): slow stubs are measured on part of the region.
func (s *session) readAll(dst []byte, binary bool, budget time.Duration) (int, error) {
	chunk := (s.packet - 32) / 2
	op := byte('m')
	if binary {
		chunk = s.packet - 32
		op = 'x'
	}
	chunk &^= 63
	req := make([]byte, 0, 64)
	// done is how much has been read. A short reply leaves a gap before
	// the replies already requested after it: they are dropped and
	// reading goes on from done.
	done := 0
	p := pipeline{s: s, budget: budget}
	p.build = func(off int) ([]byte, int) {
		n := min(chunk, len(dst)-off)
		req = fmt.Appendf(req[:0], "%c%x,%x", op, base+off, n)
		return req, n
	}
	p.take = func(off, n int, r []byte) (int, error) {
		if off != done {
			return -1, nil
		}
		var got int
		if binary {
			if s.xB {
				if len(r) == 0 || r[0] != 'b' {
					return 0, fmt.Errorf("x reply %.20q without 'b'", r)
				}
				r = r[1:]
			}
			got = copy(dst[off:off+n], r)
		} else {
			var err error
			if got, err = hex.Decode(dst[off:off+n], r); err != nil {
				return 0, fmt.Errorf("m reply: %w", err)
			}
		}
		if got == 0 {
			return 0, fmt.Errorf("%c at %#x: empty reply", op, base+off)
		}
		done += got
		if got < n {
			return done, nil
		}
		return -1, nil
	}
	err := p.run(len(dst))
	return done, err
}

// writeAll writes src at base with M (binary false) or X, inFlight
// requests at a time. Like readAll, it stops once budget has passed.
func (s *session) writeAll(src []byte, binary bool, budget time.Duration) (int, error) {
	chunk := (s.packet - 64) / 2
	if binary {
		// Leave room for escapes: X counts its bytes on the wire.
		chunk = (s.packet - 64) * 7 / 8
	}
	chunk &^= 63
	req := make([]byte, 0, s.packet+64)
	done := 0
	p := pipeline{s: s, budget: budget}
	p.build = func(off int) ([]byte, int) {
		n := min(chunk, len(src)-off)
		data := src[off : off+n]
		if !binary {
			req = fmt.Appendf(req[:0], "M%x,%x:", base+off, n)
			return hex.AppendEncode(req, data), n
		}
		for n > 64 && n+escapes(data) > s.packet-64 {
			n -= 64
			data = src[off : off+n]
		}
		req = fmt.Appendf(req[:0], "X%x,%x:", base+off, n)
		return append(req, data...), n
	}
	p.take = func(off, n int, r []byte) (int, error) {
		if string(r) != "OK" {
			return 0, fmt.Errorf("write at %#x: reply %.20q", base+off, r)
		}
		done += n
		return -1, nil
	}
	err := p.run(len(src))
	return done, err
}

// escapes counts the bytes of p that need escaping in a packet.
func escapes(p []byte) int {
	return bytes.Count(p, []byte{'$'}) + bytes.Count(p, []byte{'#'}) +
		bytes.Count(p, []byte{'}'}) + bytes.Count(p, []byte{'*'})
}

// scattered reads n 8-byte words at pseudo-random places of the pattern of
// seed in a region of size bytes, checking each.
func (s *session) scattered(n int, size int, seed uint64) error {
	words := uint64(size / 8)
	req := make([]byte, 0, 32)
	var word [8]byte
	for k := range n {
		i := mix(uint64(k)+12345) % words
		req = fmt.Appendf(req[:0], "m%x,8", base+8*i)
		r, err := s.raw(req)
		if err != nil {
			return err
		}
		if _, err := hex.Decode(word[:], r); err != nil || len(r) != 16 {
			return fmt.Errorf("%s: reply %q", req, r)
		}
		if got, want := binary.LittleEndian.Uint64(word[:]), mix(seed+(i+1)*golden); got != want {
			return fmt.Errorf("%s: %#x, want %#x", req, got, want)
		}
	}
	return nil
}

// registers reads all registers n times with g.
func (s *session) registers(n int) error {
	first := ""
	for range n {
		r, err := s.raw([]byte("g"))
		if err != nil {
			return err
		}
		if len(r) == 0 {
			return errNA
		}
		if len(r) < 16*17 || (first != "" && len(r) != len(first)) {
			return fmt.Errorf("g reply of %d digits", len(r))
		}
		if first == "" {
			first = string(r)
		}
	}
	return nil
}

// register reads rip (16 for both gdb and lldb-server) n times with p.
func (s *session) register(n int) error {
	for range n {
		r, err := s.raw([]byte("p10"))
		if err != nil {
			return err
		}
		if len(r) == 0 {
			return errNA
		}
		if len(r) != 16 {
			return fmt.Errorf("p10 reply %q", r)
		}
	}
	return nil
}

// breakpointHits hits the breakpoint at addr n times, stepping off it as
// gdb does: z0, vCont;s, Z0, vCont;c.
func (s *session) breakpointHits(addr uint64, n int) error {
	z := fmt.Sprintf("Z0,%x,1", addr)
	if r, err := s.exchange(z); err != nil || r != "OK" {
		return fmt.Errorf("%s: %q, %v", z, r, err)
	}
	if err := s.resume("vCont;c"); err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		if r, err := s.exchange("z" + z[1:]); err != nil || r != "OK" {
			return fmt.Errorf("z0: %q, %v", r, err)
		}
		if err := s.resume("vCont;s:" + s.tid); err != nil {
			return err
		}
		if r, err := s.exchange(z); err != nil || r != "OK" {
			return fmt.Errorf("Z0: %q, %v", r, err)
		}
		if err := s.resume("vCont;c"); err != nil {
			return err
		}
	}
	return nil
}

// checkHits removes the breakpoint at bp, runs the target to its next
// stop, and checks that it counted n calls in the word at hitsAddr.
func (s *session) checkHits(bp, hitsAddr uint64, n int) error {
	if r, err := s.exchange(fmt.Sprintf("z0,%x,1", bp)); err != nil || r != "OK" {
		return fmt.Errorf("z0: %q, %v", r, err)
	}
	if err := s.resume("vCont;c"); err != nil {
		return err
	}
	hits, err := s.readWord(hitsAddr)
	if err != nil {
		return err
	}
	if hits != uint64(n) {
		return fmt.Errorf("target counted %d calls, want %d", hits, n)
	}
	return nil
}

// steps single-steps n times.
func (s *session) steps(n int) error {
	p := "vCont;s:" + s.tid
	for range n {
		if err := s.resume(p); err != nil {
			return err
		}
	}
	return nil
}

// readWord reads the 8-byte word at addr.
func (s *session) readWord(addr uint64) (uint64, error) {
	r, err := s.exchange(fmt.Sprintf("m%x,8", addr))
	if err != nil {
		return 0, err
	}
	b, err := hex.DecodeString(r)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("m%x,8: %q", addr, r)
	}
	return binary.LittleEndian.Uint64(b), nil
}

// verify compares got with want and says where they first differ.
func verify(what string, got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("%s: byte %#x is %#x, want %#x", what, i, got[i], want[i])
		}
	}
	return fmt.Errorf("%s: lengths differ", what)
}
