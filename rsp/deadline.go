package rsp

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// Time limits on the client connection, so that a client that misbehaves
// ends its own session rather than wedging the server:
//
//   - every write has a deadline: a client that stops reading its replies
//     (and acknowledgments) fills the socket's buffer, the write fails, and
//     the session ends as a disconnect;
//   - a packet, once its '$' has arrived, must be complete within a
//     deadline: a client that sends half a packet and stalls is dropped.
//
// Between packets there is no limit: a user may look at a stopped program
// for as long as they like. Both need a connection with deadlines (a
// net.Conn); on others (stdio pipes) they do nothing.
const (
	// DefaultWriteTimeout is Config.WriteTimeout's default.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultPacketTimeout is Config.PacketTimeout's default.
	DefaultPacketTimeout = 30 * time.Second
)

// deadlineConn is the session's connection with its write deadline:
// Write sets one first.
type deadlineConn struct {
	io.ReadWriter
	wd    interface{ SetWriteDeadline(time.Time) error }
	write time.Duration
}

// withDeadlines wraps rw with the write deadline cfg asks for, where rw
// supports deadlines.
func withDeadlines(rw io.ReadWriter, cfg Config) io.ReadWriter {
	d := &deadlineConn{ReadWriter: rw, write: timeout(cfg.WriteTimeout, DefaultWriteTimeout)}
	if d.write > 0 {
		d.wd, _ = rw.(interface{ SetWriteDeadline(time.Time) error })
	}
	if d.wd == nil {
		return rw
	}
	return d
}

// timeout returns the limit a Config field asks for: 0 means the default,
// a negative value none.
func timeout(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	// A connection that cannot take a deadline simply has none.
	_ = d.wd.SetWriteDeadline(time.Now().Add(d.write))
	return d.ReadWriter.Write(p)
}

// readDeadline is what sets the read deadline of a session's connection:
// the packet deadline (armPacketDeadline), and Yield, which makes the wait
// for the next packet end at once. Yield comes from another goroutine, and
// must never cut a packet short: mu orders the two.
type readDeadline struct {
	rd     interface{ SetReadDeadline(time.Time) error } // nil: no deadlines
	packet time.Duration                                 // 0: no packet deadline

	mu       sync.Mutex
	inPacket bool // a packet's rest is being waited for
	yield    bool // Yield was called, and Serve has not returned for it yet
}

// setReadDeadlines gives the conn the read deadlines of rw, with a packet
// deadline of packet (0 for none).
func (c *conn) setReadDeadlines(rw io.ReadWriter, packet time.Duration) {
	c.rdl.rd, _ = rw.(interface{ SetReadDeadline(time.Time) error })
	c.rdl.packet = packet
}

// armPacketDeadline is called by readFrame after a packet's '$': it
// bounds the time the rest of the packet may take to arrive, unless the
// rest is already buffered (the usual case, which then costs nothing). It
// also lifts a Yield's deadline until the packet is in. It reports
// whether it set a deadline, which disarmPacketDeadline must then clear.
func (c *conn) armPacketDeadline() bool {
	d := &c.rdl
	if d.rd == nil {
		return false
	}
	if buf, _ := c.r.Peek(c.r.Buffered()); len(buf) > 0 {
		if i := bytes.IndexByte(buf, '#'); i >= 0 && len(buf) >= i+3 {
			return false
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.packet == 0 && !d.yield {
		return false
	}
	d.inPacket = true
	var t time.Time
	if d.packet > 0 {
		t = time.Now().Add(d.packet)
	}
	_ = d.rd.SetReadDeadline(t)
	return true
}

// disarmPacketDeadline lifts the deadline armPacketDeadline set: the
// wait for the next packet has none, unless Yield asks it to end.
func (c *conn) disarmPacketDeadline() {
	d := &c.rdl
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inPacket = false
	_ = d.rd.SetReadDeadline(d.idle())
}

// idle is the read deadline between packets: none, or the past once
// Yield was called. Must be called with mu held.
func (d *readDeadline) idle() time.Time {
	if d.yield {
		return time.Unix(1, 0)
	}
	return time.Time{}
}

// requestYield makes the wait for the next packet end (see
// Session.Yield). It may be called from any goroutine.
func (c *conn) requestYield() bool {
	d := &c.rdl
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rd == nil {
		return false
	}
	d.yield = true
	if !d.inPacket {
		_ = d.rd.SetReadDeadline(d.idle())
	}
	return true
}

// takeYield reports whether Yield was called, and if so forgets it and
// lifts its deadline.
func (c *conn) takeYield() bool {
	d := &c.rdl
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.yield {
		return false
	}
	d.yield = false
	_ = d.rd.SetReadDeadline(time.Time{})
	return true
}
