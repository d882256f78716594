package rsp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Framing, as the manual's "Overview" and "Packet Acknowledgment" sections
// describe it: a packet is '$', the payload, '#' and two hex digits of the
// payload's checksum (the sum of its bytes modulo 256). The bytes '$', '#',
// '}' and '*' are escaped inside a payload as '}' followed by the byte
// XOR 0x20; the reply side may also run-length encode, which only the
// client has to expand. Between packets come acknowledgments ('+', '-')
// until QStartNoAckMode turns them off, and the interrupt byte 0x03.

const (
	// interruptByte stops the running target when sent between packets.
	interruptByte = 0x03
	// escapeByte introduces an escaped byte; the byte after it is XORed
	// with escapeXor.
	escapeByte = '}'
	escapeXor  = 0x20
	// rleByte introduces a run-length count in a reply; the count is the
	// next byte minus rleBias.
	rleByte = '*'
	rleBias = 29

	// maxNaks bounds how often one packet is sent again on '-', so two
	// peers that disagree on every checksum do not loop for ever.
	maxNaks = 8
	// wireLogMax is how much of a packet the wire log shows.
	wireLogMax = 256
)

// Errors of the framing. Each is an I/O-level failure of the connection,
// not a request the client made badly.
var (
	errTooManyNaks = errors.New("rsp: peer rejected the same packet too many times")
	// errTooLong and errBadEscape reject a well-checksummed packet whose
	// payload cannot be used; the session answers them with an error.
	errTooLong   = &protoError{codeMalformed, "packet longer than PacketSize"}
	errBadEscape = &protoError{codeMalformed, "packet ends inside an escape sequence"}
	errBadRLE    = &protoError{codeMalformed, "invalid run-length encoding"}
)

// frameKind says what readFrame found on the wire.
type frameKind uint8

const (
	// framePacket is a packet whose checksum matched.
	framePacket frameKind = iota
	// frameInterrupt is the interrupt byte 0x03 seen between packets.
	frameInterrupt
	// frameRejected is a packet whose checksum matched but whose payload
	// cannot be used (too long, broken escape); frame.err says why. It has
	// been acknowledged: it arrived intact, the stub just refuses it.
	frameRejected
	// frameNotification is a notification ('%', on the client's side),
	// whose checksum matched; it is not acknowledged.
	frameNotification
)

// frame is one thing read from the wire.
type frame struct {
	kind    frameKind
	payload []byte // framePacket, frameNotification: decoded payload, valid until the next readFrame
	err     error  // frameRejected: why the packet was refused
}

// conn frames RSP packets over a byte stream. One goroutine may read
// (readFrame) while others write (writePacket): reading writes
// acknowledgments and retransmissions itself, so every write holds wmu.
type conn struct {
	r     *bufio.Reader
	w     io.Writer
	rle   bool // expand run-length encoding in received packets (the client's side)
	limit int  // the longest payload accepted, counted in bytes on the wire
	in    []byte

	// rdl sets the read deadlines of a session's connection
	// (deadline.go).
	rdl readDeadline

	wmu    sync.Mutex
	ack    bool   // acknowledgments are on (until QStartNoAckMode)
	out    []byte // the last packet written, kept to send it again on '-'
	naks   int    // how often out has been sent again
	note   []byte // the last notification written (writeNotification)
	ackBuf [1]byte
	log    *slog.Logger
}

// newConn returns a conn in acknowledgment mode that accepts payloads up to
// limit bytes on the wire. rle says whether received payloads may be
// run-length encoded, which only replies (read by a client) may be. log,
// when not nil, receives every packet in and out at Info level while its
// handler is enabled for it.
func newConn(rw io.ReadWriter, limit int, rle bool, log *slog.Logger) *conn {
	return &conn{
		// The reader's buffer needs no relation to limit: packets are
		// copied out of it byte by byte.
		r:     bufio.NewReaderSize(rw, 64<<10),
		w:     rw,
		rle:   rle,
		limit: limit,
		ack:   true,
		log:   log,
	}
}

// setAck turns acknowledgments on or off. The stub turns them off after it
// has replied OK to QStartNoAckMode, the client after reading that OK.
func (c *conn) setAck(on bool) {
	c.wmu.Lock()
	c.ack = on
	c.wmu.Unlock()
}

// buffered reports whether bytes the client sent are read but not yet
// taken as frames.
func (c *conn) buffered() bool { return c.r.Buffered() > 0 }

// readFrame reads until the next packet or interrupt byte. On the way it
// skips '+' and bytes that belong to no packet, sends the last packet again
// on '-', and answers a packet with a bad checksum with '-' (in
// acknowledgment mode; without acknowledgments it is dropped) and goes on
// reading: a bad checksum changes nothing else. A good packet is
// acknowledged with '+' before readFrame returns it.
//
// The error is an I/O error, io.ErrUnexpectedEOF for a connection that ends
// inside a packet, or errTooManyNaks.
func (c *conn) readFrame() (frame, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return frame{}, err
		}
		switch b {
		case '$':
			armed := c.armPacketDeadline()
			f, ok, err := c.readPacket(true)
			if armed {
				c.disarmPacketDeadline()
			}
			if err != nil || ok {
				return f, err
			}
		case '%':
			if !c.rle {
				break // a stub receives no notifications: noise
			}
			f, ok, err := c.readPacket(false)
			if err != nil || ok {
				if f.kind == framePacket {
					f.kind = frameNotification
				}
				return f, err
			}
		case interruptByte:
			c.logWire("in", []byte{interruptByte})
			return frame{kind: frameInterrupt}, nil
		case '-':
			if err := c.retransmit(); err != nil {
				return frame{}, err
			}
		default:
			// '+' needs no action: a stub keeps no queue of unacknowledged
			// packets. Anything else is line noise between packets.
		}
	}
}

// readPacket reads a packet after its '$' (or a notification after its
// '%', with ack false: it is never acknowledged). ok is false when the
// packet was dropped for its checksum and reading should go on.
func (c *conn) readPacket(ack bool) (f frame, ok bool, err error) {
	c.in = c.in[:0]
	var sum byte
	wire := 0
	for {
		chunk, err := c.r.ReadSlice('#')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return frame{}, false, unexpectedEOF(err)
		}
		end := err == nil
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		// IndexByte first: it is vectorized, and a '$' is rare.
		if i := bytes.IndexByte(chunk, '$'); i >= 0 {
			i += bytes.LastIndexByte(chunk[i:], '$')
			// A '$' cannot occur inside a packet: the one we were reading
			// was cut short and a new one begins.
			c.in, sum, wire = c.in[:0], 0, 0
			chunk = chunk[i+1:]
		}
		// What fits is summed when it is decoded, in the same pass; the
		// rest of an over-long packet only counts for the checksum.
		keep := min(max(c.limit-wire, 0), len(chunk))
		c.in = append(c.in, chunk[:keep]...)
		sum += checksum(chunk[keep:])
		wire += len(chunk)
		if end {
			break
		}
	}
	hi, err := c.r.ReadByte()
	if err != nil {
		return frame{}, false, unexpectedEOF(err)
	}
	lo, err := c.r.ReadByte()
	if err != nil {
		return frame{}, false, unexpectedEOF(err)
	}
	raw := c.in
	if c.logging() {
		raw = bytes.Clone(c.in) // decode works in place
	}
	// A packet is decoded before its checksum is known: the decoding sums
	// the bytes as it goes, and a packet with a bad checksum is dropped
	// whatever its decoding gave.
	payload, psum, derr := c.decode(c.in)
	want, herr := parseHexByte(hi, lo)
	if herr != nil || want != sum+psum {
		c.logWire("in-bad-checksum", raw)
		if !ack {
			return frame{}, false, nil
		}
		return frame{}, false, c.writeAck('-')
	}
	// The packet arrived intact even if its acknowledgment cannot be
	// sent (a stub may close the connection after its last reply); a
	// broken connection shows at the next read or write.
	if ack {
		_ = c.writeAck('+')
	}
	c.logWire("in", raw)
	if wire > c.limit {
		return frame{kind: frameRejected, err: errTooLong}, true, nil
	}
	if derr != nil {
		return frame{kind: frameRejected, err: derr}, true, nil
	}
	return frame{kind: framePacket, payload: payload}, true, nil
}

// decode undoes run-length encoding (when c.rle) and escapes, in place
// unless run-length encoding makes p longer, and returns the checksum of
// p as it came, whether or not it decodes. Run-length encoding applies to
// the bytes on the wire, so it is expanded first; the result never
// exceeds c.limit bytes.
func (c *conn) decode(p []byte) (_ []byte, sum byte, err error) {
	if c.rle && bytes.IndexByte(p, rleByte) >= 0 {
		sum = checksum(p)
		if p, err = expandRLE(p, c.limit); err != nil {
			return nil, sum, err
		}
		c.in = p
		p, err = unescape(p)
		return p, sum, err
	}
	return unescapeSum(p)
}

// expandRLE expands each "X*n" into X followed by n-29 more copies of X,
// refusing results longer than limit. A payload without '*' is returned
// as it is.
func expandRLE(p []byte, limit int) ([]byte, error) {
	i := bytes.IndexByte(p, rleByte)
	if i < 0 {
		return p, nil
	}
	out := make([]byte, 0, len(p))
	out = append(out, p[:i]...)
	for ; i < len(p); i++ {
		b := p[i]
		if b != rleByte {
			if len(out) >= limit {
				return nil, errTooLong
			}
			out = append(out, b)
			continue
		}
		if len(out) == 0 || i+1 == len(p) || p[i+1] < rleBias {
			return nil, errBadRLE
		}
		i++
		n := int(p[i]) - rleBias
		if len(out)+n > limit {
			return nil, errTooLong
		}
		prev := out[len(out)-1]
		for range n {
			out = append(out, prev)
		}
	}
	return out, nil
}

// unescape decodes '}' escapes in place.
func unescape(p []byte) ([]byte, error) {
	p, _, err := unescapeSum(p)
	return p, err
}

// unescapeSum decodes '}' escapes in place, moving the runs between
// escapes with copy, and returns the checksum of p as it came, even when
// it ends inside an escape. escapeScan finds the escapes and sums the
// bytes in one pass: escapes are 1 in 64 bytes of random binary data, and
// the vector pass costs less than a bytes.IndexByte that starts again
// after each of them.
func unescapeSum(p []byte) (_ []byte, sum byte, err error) {
	sc := newEscapeScan(p)
	i, j := 0, 0 // read and write positions; writes stay behind reads
	for at := range sc.all() {
		if at < i || p[at] != escapeByte {
			// The byte after an escape, or '$', '#' or '*', which are
			// plain data once the framing is undone.
			continue
		}
		if at+1 == len(p) {
			// The last byte: its window, and so all of p, is summed.
			return nil, sc.sum, errBadEscape
		}
		if j < i {
			copy(p[j:], p[i:at])
		}
		j += at - i
		p[j] = p[at+1] ^ escapeXor
		i, j = at+2, j+1
	}
	if j < i {
		copy(p[j:], p[i:])
	}
	return p[:j+len(p)-i], sc.sum, nil
}

// unexpectedEOF turns io.EOF inside a packet into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeAck writes an acknowledgment when acknowledgments are on.
func (c *conn) writeAck(b byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.ack {
		return nil
	}
	c.ackBuf[0] = b
	if _, err := c.w.Write(c.ackBuf[:]); err != nil {
		return fmt.Errorf("rsp: write ack: %w", err)
	}
	return nil
}

// retransmit sends the last packet again after a '-'.
func (c *conn) retransmit() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.ack || len(c.out) == 0 {
		return nil
	}
	if c.naks >= maxNaks {
		return errTooManyNaks
	}
	c.naks++
	c.logWire("out-again", c.out)
	if _, err := c.w.Write(c.out); err != nil {
		return fmt.Errorf("rsp: retransmit: %w", err)
	}
	return nil
}

// needsEscape marks the bytes that cannot appear literally in a payload:
// the frame delimiters, the escape byte, and the run-length marker (which
// a client would expand).
var needsEscape = [256]bool{'$': true, '#': true, escapeByte: true, rleByte: true}

// writePacket frames payload, escaping it and computing the checksum as it
// goes, and writes it in one call. Escaping everything is safe for text
// replies too: they never contain the escaped bytes.
func (c *conn) writePacket(payload []byte) error {
	return c.writeReply(payload, false)
}

// writeReply is writePacket for the stub's replies, run-length encoded
// when runs is set (compressRuns).
func (c *conn) writeReply(payload []byte, runs bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out, c.naks = frameOut(c.out[:0], '$', payload, runs), 0
	c.logWire("out", c.out)
	if _, err := c.w.Write(c.out); err != nil {
		return fmt.Errorf("rsp: write packet: %w", err)
	}
	return nil
}

// writeNotification writes an asynchronous notification: '%', the
// escaped payload ("Stop:..."), '#' and the checksum, run-length encoded
// when runs is set. The client does not acknowledge it, and it is never
// sent again (the manual's "Notification Packets"); the packet that '-'
// would repeat stays the last reply.
func (c *conn) writeNotification(payload []byte, runs bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.note = frameOut(c.note[:0], '%', payload, runs)
	c.logWire("out", c.note)
	if _, err := c.w.Write(c.note); err != nil {
		return fmt.Errorf("rsp: write notification: %w", err)
	}
	return nil
}

// frameOut appends to dst the packet of payload that starts with start:
// the payload escaped, and run-length encoded when runs is set and it
// needed no escape (gdb expands a run after an escaped byte as a run of
// the byte it stands for), then '#' and the checksum.
func frameOut(dst []byte, start byte, payload []byte, runs bool) []byte {
	out, sum := appendEscaped(append(dst, start), payload)
	if runs && len(out) == len(dst)+1+len(payload) {
		n, delta := compressRuns(out[len(dst)+1:])
		out, sum = out[:len(dst)+1+n], sum+delta
	}
	return append(out, '#', hexDigits[sum>>4], hexDigits[sum&0xf])
}

// writeFramed writes a packet its caller framed ('$', the escaped
// payload, '#' and the checksum), keeping it to send again on '-' as
// writePacket does. The conn keeps pkt, and returns the buffer of the
// packet before it for the caller to build its next packet in: replies
// are built where they are sent from, without a copy.
func (c *conn) writeFramed(pkt []byte) (spare []byte, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	spare, c.out, c.naks = c.out[:0], pkt, 0
	c.logWire("out", pkt)
	if _, err := c.w.Write(pkt); err != nil {
		return spare, fmt.Errorf("rsp: write packet: %w", err)
	}
	return spare, nil
}

// writeRaw writes bytes as given (the interrupt byte, or malformed input
// in tests).
func (c *conn) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.logWire("out-raw", b)
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("rsp: write: %w", err)
	}
	return nil
}

// readAck reads the next byte, which must be an acknowledgment.
func (c *conn) readAck() (byte, error) {
	b, err := c.r.ReadByte()
	if err != nil {
		return 0, err
	}
	if b != '+' && b != '-' {
		return b, fmt.Errorf("rsp: read %q where an acknowledgment was expected", b)
	}
	return b, nil
}

// logging reports whether the wire log is on, now.
func (c *conn) logging() bool {
	return c.log != nil && c.log.Enabled(context.Background(), slog.LevelInfo)
}

// logWire logs a packet on the wire log, shortened to wireLogMax bytes.
func (c *conn) logWire(dir string, p []byte) {
	if !c.logging() {
		return
	}
	if len(p) > wireLogMax {
		c.log.Info("rsp", "dir", dir, "len", len(p), "packet", truncate(p, wireLogMax))
		return
	}
	c.log.Info("rsp", "dir", dir, "packet", string(p))
}
