package rsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// clientReadLimit bounds the replies a Client accepts, after run-length
// expansion. Stubs size replies by what was asked (memory, qXfer windows)
// or by their own PacketSize; this only stops a broken stub from growing
// the client's memory without bound.
const clientReadLimit = 4 << 20

// xferWindow is how much ReadXfer asks for at a time.
const xferWindow = 0x10000

// ErrUnsupported is returned by Client's helpers when the stub answers with
// the empty reply, which means it does not support the packet.
var ErrUnsupported = errors.New("rsp: packet not supported by the stub")

// ReplyError is an error reply ("E NN" or "E.text") to a request made by one
// of Client's helpers.
type ReplyError struct {
	Request string // the request's packet name and arguments, shortened
	Code    int    // NN, or -1 for an E.text reply
	Text    string // the text of an E.text reply
}

// Error describes the request and the stub's error.
func (e *ReplyError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("rsp: %s: error reply: %s", e.Request, e.Text)
	}
	return fmt.Sprintf("rsp: %s: error reply E%02x", e.Request, e.Code)
}

// Client is the client's end of an RSP connection: it sends packets and
// reads replies, handling acknowledgments, escapes and run-length
// encoding. A Client is not safe for concurrent use, except that
// Interrupt, SetDeadline and Close may be called while another goroutine
// waits in Exchange or Receive.
type Client struct {
	rwc  io.ReadWriteCloser
	conn *conn
	// notes are notifications that came before a reply, for
	// Notification.
	notes []string
}

// Dial connects to a stub at address on network ("tcp" or "unix").
func Dial(ctx context.Context, network, address string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("rsp: dial: %w", err)
	}
	return NewClient(c), nil
}

// NewClient returns a Client that talks over rwc, in acknowledgment mode.
func NewClient(rwc io.ReadWriteCloser) *Client {
	return &Client{rwc: rwc, conn: newConn(rwc, clientReadLimit, true, nil)}
}

// Exchange sends a packet and returns the payload of the reply. In
// acknowledgment mode it sends the packet again when the stub answers '-'
// (a bounded number of times) and acknowledges the reply.
func (c *Client) Exchange(payload string) (string, error) {
	if err := c.Send(payload); err != nil {
		return "", err
	}
	return c.Receive()
}

// Send sends a packet, escaping what needs it. It does not wait for the
// acknowledgment; Receive deals with it.
func (c *Client) Send(payload string) error {
	return c.conn.writePacket([]byte(payload))
}

// Receive returns the payload of the next packet, run-length expanded and
// unescaped, acknowledging it in acknowledgment mode. Acknowledgments that
// come before it are consumed: '-' sends the last packet again.
func (c *Client) Receive() (string, error) {
	p, err := c.ReceiveBytes()
	return string(p), err
}

// ExchangeBytes is Exchange for binary payloads without copies: it sends
// payload and returns the reply's payload, run-length expanded and
// unescaped, in the Client's buffer, valid until the next call. Bulk
// readers (memory, benchmarks) use it to avoid a string per reply.
func (c *Client) ExchangeBytes(payload []byte) ([]byte, error) {
	if err := c.SendBytes(payload); err != nil {
		return nil, err
	}
	return c.ReceiveBytes()
}

// SendBytes is Send for a binary payload.
func (c *Client) SendBytes(payload []byte) error {
	return c.conn.writePacket(payload)
}

// ReceiveBytes is Receive returning the payload in the Client's buffer,
// valid until the next call that reads. With SendBytes it lets a client
// in no-acknowledgment mode keep more than one request in flight: a stub
// answers packets in the order it received them.
func (c *Client) ReceiveBytes() ([]byte, error) {
	for {
		f, err := c.conn.readFrame()
		if err != nil {
			return nil, err
		}
		switch f.kind {
		case framePacket:
			return f.payload, nil
		case frameRejected:
			return nil, fmt.Errorf("rsp: reply refused: %w", f.err)
		case frameNotification:
			c.notes = append(c.notes, string(f.payload))
		}
		// A stub never sends the interrupt byte; skip it like noise.
	}
}

// Notification returns the payload of the next notification from the stub
// ("Stop:T05..." in non-stop mode), one that came while Receive waited for
// a reply first. It is for when no reply is due: a reply that comes while
// it waits is an error.
func (c *Client) Notification() (string, error) {
	if len(c.notes) > 0 {
		n := c.notes[0]
		c.notes = c.notes[1:]
		return n, nil
	}
	for {
		f, err := c.conn.readFrame()
		if err != nil {
			return "", err
		}
		switch f.kind {
		case frameNotification:
			return string(f.payload), nil
		case framePacket, frameRejected:
			return "", fmt.Errorf("rsp: packet %.40q while waiting for a notification", f.payload)
		}
	}
}

// StartNoAck asks the stub to stop acknowledging packets
// (QStartNoAckMode) and stops acknowledging itself once it agreed.
func (c *Client) StartNoAck() error {
	r, err := c.Exchange("QStartNoAckMode")
	if err != nil {
		return err
	}
	if r != "OK" {
		return checkReply("QStartNoAckMode", r)
	}
	c.conn.setAck(false)
	return nil
}

// Interrupt sends the interrupt byte, which stops a running target; the
// stop reply then answers the packet that resumed it.
func (c *Client) Interrupt() error {
	return c.conn.writeRaw([]byte{interruptByte})
}

// WriteRaw writes b as it is, for tests of malformed input.
func (c *Client) WriteRaw(b []byte) error {
	return c.conn.writeRaw(b)
}

// ReadAck reads the next byte, which must be '+' or '-'.
func (c *Client) ReadAck() (byte, error) {
	return c.conn.readAck()
}

// SetDeadline sets the read and write deadline of the connection, if it
// has deadlines (a net.Conn does).
func (c *Client) SetDeadline(t time.Time) error {
	d, ok := c.rwc.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return errors.New("rsp: connection has no deadlines")
	}
	return d.SetDeadline(t)
}

// Close closes the connection.
func (c *Client) Close() error {
	return c.rwc.Close()
}

// Request is Exchange for a request that must succeed: the empty reply
// becomes an error wrapping ErrUnsupported, and an error reply a
// *ReplyError, each naming the request.
func (c *Client) Request(payload string) (string, error) {
	r, err := c.Exchange(payload)
	if err != nil {
		return "", err
	}
	if err := checkReply(payload, r); err != nil {
		return "", err
	}
	return r, nil
}

// RequestBytes is Request for binary payloads, without copies: the reply
// is in the Client's buffer, valid until the next call that reads.
func (c *Client) RequestBytes(payload []byte) ([]byte, error) {
	r, err := c.ExchangeBytes(payload)
	if err != nil {
		return nil, err
	}
	if len(r) == 0 || r[0] == 'E' {
		if err := checkReply(string(payload), string(r)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// CheckReply returns the error that reply r to request means: one wrapping
// ErrUnsupported for the empty reply, a *ReplyError for "E NN" and
// "E.text", nil for any other reply. For replies read with Receive.
func CheckReply(request string, r []byte) error {
	if len(r) != 0 && r[0] != 'E' {
		return nil
	}
	return checkReply(request, string(r))
}

// checkReply returns the error that reply r to request means, or nil.
func checkReply(request, r string) error {
	const maxRequest = 40
	if len(request) > maxRequest {
		request = request[:maxRequest] + "…"
	}
	switch {
	case r == "":
		return fmt.Errorf("%s: %w", request, ErrUnsupported)
	case len(r) >= 2 && r[:2] == "E.":
		return &ReplyError{Request: request, Code: -1, Text: r[2:]}
	case len(r) == 3 && r[0] == 'E':
		if code, err := strconv.ParseUint(r[1:], 16, 8); err == nil {
			return &ReplyError{Request: request, Code: int(code)}
		}
	}
	return nil
}

// ReadMemory reads n bytes at addr with the m packet. Like the packet, it
// may return fewer bytes than asked for: the readable start of the range.
func (c *Client) ReadMemory(addr uint64, n int) ([]byte, error) {
	r, err := c.Request(fmt.Sprintf("m%x,%x", addr, n))
	if err != nil {
		return nil, err
	}
	return decodeReplyHex("m", r)
}

// WriteMemory writes data at addr with the binary X packet.
func (c *Client) WriteMemory(addr uint64, data []byte) error {
	r, err := c.Request(fmt.Sprintf("X%x,%x:", addr, len(data)) + string(data))
	if err != nil {
		return err
	}
	if r != "OK" {
		return fmt.Errorf("rsp: X: unexpected reply %q", r)
	}
	return nil
}

// ReadRegisters returns the raw bytes of the g packet: the registers of
// the stub's general thread, in the target description's order.
func (c *Client) ReadRegisters() ([]byte, error) {
	r, err := c.Request("g")
	if err != nil {
		return nil, err
	}
	return decodeReplyHex("g", r)
}

// ReadRegister returns the raw bytes of register n (gdb's numbering) with
// the p packet.
func (c *Client) ReadRegister(n int) ([]byte, error) {
	r, err := c.Request(fmt.Sprintf("p%x", n))
	if err != nil {
		return nil, err
	}
	return decodeReplyHex("p", r)
}

// ReadXfer reads a whole qXfer object, window by window, for example
// ReadXfer("features", "target.xml").
func (c *Client) ReadXfer(object, annex string) ([]byte, error) {
	var doc []byte
	for {
		r, err := c.Request(fmt.Sprintf("qXfer:%s:read:%s:%x,%x", object, annex, len(doc), xferWindow))
		if err != nil {
			return nil, err
		}
		switch r[0] {
		case 'l':
			return append(doc, r[1:]...), nil
		case 'm':
			if len(r) == 1 {
				return nil, fmt.Errorf("rsp: qXfer:%s: empty window before the end", object)
			}
			doc = append(doc, r[1:]...)
		default:
			return nil, fmt.Errorf("rsp: qXfer:%s: unexpected reply %q", object, r)
		}
	}
}

// decodeReplyHex decodes the hex reply r to packet.
func decodeReplyHex(packet, r string) ([]byte, error) {
	b, err := decodeHex(nil, []byte(r))
	if err != nil {
		return nil, fmt.Errorf("rsp: %s: reply %.40q: %w", packet, r, err)
	}
	return b, nil
}
