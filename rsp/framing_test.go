package rsp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// wire frames bytes that are already as they go on the wire (escaped),
// independently of writePacket.
func wire(payload string) string {
	var sum byte
	for i := 0; i < len(payload); i++ {
		sum += payload[i]
	}
	return fmt.Sprintf("$%s#%02x", payload, sum)
}

// pipeRW reads from a fixed input and records what is written.
type pipeRW struct {
	in  io.Reader
	out bytes.Buffer
}

func (p *pipeRW) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *pipeRW) Write(b []byte) (int, error) { return p.out.Write(b) }

func newTestConn(input string, limit int, rle bool) (*conn, *pipeRW) {
	rw := &pipeRW{in: bytes.NewReader([]byte(input))}
	return newConn(rw, limit, rle, nil), rw
}

// readAll reads frames until the input ends, describing each as a string.
func readAll(c *conn) ([]string, error) {
	var got []string
	for {
		f, err := c.readFrame()
		if err != nil {
			return got, err
		}
		switch f.kind {
		case framePacket:
			got = append(got, "packet "+string(f.payload))
		case frameInterrupt:
			got = append(got, "interrupt")
		case frameRejected:
			got = append(got, "rejected "+f.err.Error())
		case frameNotification:
			got = append(got, "notification "+string(f.payload))
		}
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		limit  int
		rle    bool
		noAck  bool
		frames []string
		acks   string
		err    error
	}{
		{name: "one packet", input: wire("g"), frames: []string{"packet g"}, acks: "+"},
		{
			name:   "a notification, on the client's side, is not acknowledged",
			input:  "%" + wire("Stop:T05")[1:] + wire("OK"),
			rle:    true,
			frames: []string{"notification Stop:T05", "packet OK"},
			acks:   "+",
		},
		{
			name:   "a notification with a bad checksum is dropped silently",
			input:  "%Stop:T05#00" + wire("OK"),
			rle:    true,
			frames: []string{"packet OK"},
			acks:   "+",
		},
		{
			name:   "a stub takes a notification for noise",
			input:  "%" + wire("Stop:T05")[1:] + wire("g"),
			frames: []string{"packet g"},
			acks:   "+",
		},
		{name: "empty packet", input: "$#00", frames: []string{"packet "}, acks: "+"},
		{
			name:   "bad checksum gets - and is dropped",
			input:  "$g#00" + wire("?"),
			frames: []string{"packet ?"},
			acks:   "-+",
		},
		{
			name:   "checksum that is not hex",
			input:  "$g#zz" + wire("?"),
			frames: []string{"packet ?"},
			acks:   "-+",
		},
		{
			name:   "garbage and acks between packets are skipped",
			input:  "xyz++" + wire("g") + "\n\r" + wire("?"),
			frames: []string{"packet g", "packet ?"},
			acks:   "++",
		},
		{
			name:   "interrupt byte between packets",
			input:  wire("c") + "\x03",
			frames: []string{"packet c", "interrupt"},
			acks:   "+",
		},
		{
			name:   "interrupt byte inside a packet is data",
			input:  wire("X0,1:\x03"),
			frames: []string{"packet X0,1:\x03"},
			acks:   "+",
		},
		{
			name:   "a $ inside a packet restarts it",
			input:  "$m0,4$" + wire("g")[1:],
			frames: []string{"packet g"},
			acks:   "+",
		},
		{
			name:  "escapes are decoded",
			input: wire("a}\x03}\x04}]}\x0a"),
			// '}' 0x03 is '#', 0x04 '$', ']' '}', 0x0a '*'.
			frames: []string{"packet a#$}*"},
			acks:   "+",
		},
		{
			name:   "dangling escape",
			input:  wire("a}"),
			frames: []string{"rejected " + errBadEscape.Error()},
			acks:   "+",
		},
		{
			name:   "truncated packet",
			input:  "$m0,",
			frames: nil,
			err:    io.ErrUnexpectedEOF,
		},
		{
			name:   "truncated checksum",
			input:  "$g#6",
			frames: nil,
			err:    io.ErrUnexpectedEOF,
		},
		{
			name:   "over-long packet is acknowledged and rejected",
			input:  wire("m00,1234") + wire("g"),
			limit:  4,
			frames: []string{"rejected " + errTooLong.Error(), "packet g"},
			acks:   "++",
		},
		{
			name:   "no-ack mode sends nothing and drops bad packets",
			input:  "$g#00" + wire("?"),
			noAck:  true,
			frames: []string{"packet ?"},
		},
		{
			name:   "run-length encoding on the client side",
			input:  wire("0* 1*!"),
			rle:    true,
			frames: []string{"packet 000011111"},
			acks:   "+",
		},
		{
			name:   "run-length marker without a character before it",
			input:  wire("* "),
			rle:    true,
			frames: []string{"rejected " + errBadRLE.Error()},
			acks:   "+",
		},
		{
			name:   "run-length expansion beyond the limit",
			input:  wire("0*~"),
			rle:    true,
			limit:  16,
			frames: []string{"rejected " + errTooLong.Error()},
			acks:   "+",
		},
		// The checksum is summed while the payload is decoded: it covers
		// the bytes as they came, whatever the decoding does.
		{
			name:   "bad checksum of an escaped packet",
			input:  "$a}\x03#00" + wire("a}\x03"),
			frames: []string{"packet a#"},
			acks:   "-+",
		},
		{
			name:   "bad checksum of a packet with a dangling escape",
			input:  "$a}#00" + wire("?"),
			frames: []string{"packet ?"},
			acks:   "-+",
		},
		{
			name:   "bad checksum of a run-length encoded reply",
			input:  "$0* #00" + wire("0* "),
			rle:    true,
			frames: []string{"packet 0000"},
			acks:   "-+",
		},
		{
			name:   "bad checksum of a bad run-length encoding",
			input:  "$* #00" + wire("g"),
			rle:    true,
			frames: []string{"packet g"},
			acks:   "-+",
		},
		{
			name:   "bad checksum of an over-long packet",
			input:  "$m00,1234#00" + wire("g"),
			limit:  4,
			frames: []string{"packet g"},
			acks:   "-+",
		},
		{
			name:   "over-long packet whose kept part ends in an escape",
			input:  wire("ab}]cdef") + wire("g"),
			limit:  3,
			frames: []string{"rejected " + errTooLong.Error(), "packet g"},
			acks:   "++",
		},
		{
			name:   "stub side keeps * literal",
			input:  wire("0*!"),
			frames: []string{"packet 0*!"},
			acks:   "+",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1024
			}
			c, rw := newTestConn(tt.input, limit, tt.rle)
			c.setAck(!tt.noAck)
			got, err := readAll(c)
			want := tt.err
			if want == nil {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Errorf("error = %v, want %v", err, want)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.frames) {
				t.Errorf("frames = %q, want %q", got, tt.frames)
			}
			if rw.out.String() != tt.acks {
				t.Errorf("written = %q, want %q", rw.out.String(), tt.acks)
			}
		})
	}
}

func TestWritePacket(t *testing.T) {
	tests := []struct {
		payload string
		want    string
	}{
		{"", "$#00"},
		{"OK", "$OK#9a"},
		{"a#b$c}d*e", wire("a}\x03b}\x04c}]d}\x0ae")},
	}
	for _, tt := range tests {
		c, rw := newTestConn("", 1024, false)
		if err := c.writePacket([]byte(tt.payload)); err != nil {
			t.Fatal(err)
		}
		if rw.out.String() != tt.want {
			t.Errorf("writePacket(%q) wrote %q, want %q", tt.payload, rw.out.String(), tt.want)
		}
	}
}

func TestRetransmitOnNak(t *testing.T) {
	c, rw := newTestConn("-+-", 1024, false)
	if err := c.writePacket([]byte("OK")); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(c); !errors.Is(err, io.EOF) {
		t.Fatalf("readAll: %v", err)
	}
	if want := "$OK#9a$OK#9a$OK#9a"; rw.out.String() != want {
		t.Errorf("written = %q, want %q", rw.out.String(), want)
	}
}

func TestRetransmitIsBounded(t *testing.T) {
	c, _ := newTestConn(string(bytes.Repeat([]byte{'-'}, maxNaks+1)), 1024, false)
	if err := c.writePacket([]byte("OK")); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(c); !errors.Is(err, errTooManyNaks) {
		t.Fatalf("readAll: %v, want %v", err, errTooManyNaks)
	}
}

func TestNakWithoutAcksIsIgnored(t *testing.T) {
	c, rw := newTestConn("-", 1024, false)
	c.setAck(false)
	if err := c.writePacket([]byte("OK")); err != nil {
		t.Fatal(err)
	}
	rw.out.Reset()
	if _, err := readAll(c); !errors.Is(err, io.EOF) {
		t.Fatalf("readAll: %v", err)
	}
	if rw.out.Len() != 0 {
		t.Errorf("wrote %q after '-' in no-ack mode", rw.out.String())
	}
}

func TestFramingRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 4096)
	for i := range payload {
		payload[i] = byte(rng.UintN(256))
	}
	roundTrip(t, payload)
}

// roundTrip writes payload with one conn and reads it back with another.
func roundTrip(t testing.TB, payload []byte) {
	var buf bytes.Buffer
	w := newConn(&pipeRW{in: bytes.NewReader(nil)}, 0, false, nil)
	w.w = &buf
	if err := w.writePacket(payload); err != nil {
		t.Fatal(err)
	}
	r, _ := newTestConn(buf.String(), 2*len(payload)+1, false)
	f, err := r.readFrame()
	if err != nil {
		t.Fatalf("readFrame: %v", err)
	}
	if f.kind != framePacket || !bytes.Equal(f.payload, payload) {
		t.Fatalf("read back %v %q, want %q", f.kind, f.payload, payload)
	}
}

func FuzzFramingRoundTrip(f *testing.F) {
	f.Add([]byte("OK"))
	f.Add([]byte("$#}*\x03"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		roundTrip(t, payload)
	})
}

// FuzzReadFrame feeds arbitrary bytes to both sides' readers: they must
// never panic nor return a payload longer than the limit.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte(wire("g")), false)
	f.Add([]byte("$0*~#00$a}#00\x03---"), true)
	f.Fuzz(func(t *testing.T, input []byte, rle bool) {
		const limit = 64
		c, _ := newTestConn(string(input), limit, rle)
		for {
			fr, err := c.readFrame()
			if err != nil {
				return
			}
			if len(fr.payload) > limit {
				t.Fatalf("payload of %d bytes exceeds the limit %d", len(fr.payload), limit)
			}
		}
	})
}

func BenchmarkWritePacket(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 128<<10)
	for i := range payload {
		payload[i] = byte(rng.UintN(256))
	}
	c := newConn(&pipeRW{in: bytes.NewReader(nil)}, 0, false, nil)
	c.w = io.Discard
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := c.writePacket(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 128<<10)
	for i := range payload {
		payload[i] = byte(rng.UintN(256))
	}
	var buf bytes.Buffer
	w := newConn(&pipeRW{in: bytes.NewReader(nil)}, 0, false, nil)
	w.w = &buf
	if err := w.writePacket(payload); err != nil {
		b.Fatal(err)
	}
	packet := buf.Bytes()
	rd := bytes.NewReader(packet)
	c := newConn(&pipeRW{in: rd}, 2*len(payload), false, nil)
	c.setAck(false)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		rd.Reset(packet)
		c.r.Reset(rd)
		if _, err := c.readFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

// naiveUnescape decodes escapes byte by byte, the reference for unescape.
func naiveUnescape(p []byte) ([]byte, bool) {
	var out []byte
	for i := 0; i < len(p); i++ {
		if p[i] == escapeByte {
			if i+1 == len(p) {
				return nil, false
			}
			i++
			out = append(out, p[i]^escapeXor)
			continue
		}
		out = append(out, p[i])
	}
	return out, true
}

func TestUnescape(t *testing.T) {
	ins := [][]byte{
		nil, []byte("}"), []byte("a}"), []byte("}}"), []byte("}}}"), []byte("}}}}"),
		[]byte("}]a}"), []byte("$#*}\x04"), []byte("}\x04}\x03}]}\x0a"),
	}
	for _, p := range testInputs() {
		// Each input as it is (escape bytes in it taken as escapes, '$',
		// '#' and '*' as data) and escaped.
		ins = append(ins, p, naiveEscape(p))
	}
	// An escape across every position of two vector blocks, and across
	// the end of a window of escapeScan's masks.
	for pos := range 130 {
		p := bytes.Repeat([]byte{'a'}, 130)
		p[pos] = escapeByte
		ins = append(ins, p)
	}
	for _, at := range []int{64*64 - 2, 64*64 - 1, 64 * 64} {
		p := bytes.Repeat([]byte{'b'}, 64*64+10)
		p[at] = escapeByte
		ins = append(ins, p)
	}
	for _, in := range ins {
		want, ok := naiveUnescape(in)
		got, err := unescape(bytes.Clone(in))
		if ok != (err == nil) || !bytes.Equal(got, want) {
			t.Fatalf("unescape(%.40q) = %.40q, %v; want %.40q, ok %v", in, got, err, want, ok)
		}
	}
}
