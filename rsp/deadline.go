package rsp

import (
	"bytes"
	"io"
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

// deadlineConn is the session's connection with its time limits: Write
// sets a write deadline first, and the framing arms a read deadline
// inside a packet (armPacketDeadline).
type deadlineConn struct {
	io.ReadWriter
	wd     interface{ SetWriteDeadline(time.Time) error }
	rd     interface{ SetReadDeadline(time.Time) error }
	write  time.Duration // 0: none
	packet time.Duration // 0: none
}

// withDeadlines wraps rw with the time limits cfg asks for, where rw
// supports deadlines.
func withDeadlines(rw io.ReadWriter, cfg Config) io.ReadWriter {
	d := &deadlineConn{
		ReadWriter: rw,
		write:      timeout(cfg.WriteTimeout, DefaultWriteTimeout),
		packet:     timeout(cfg.PacketTimeout, DefaultPacketTimeout),
	}
	if d.write > 0 {
		d.wd, _ = rw.(interface{ SetWriteDeadline(time.Time) error })
	}
	if d.packet > 0 {
		d.rd, _ = rw.(interface{ SetReadDeadline(time.Time) error })
	}
	if d.wd == nil && d.rd == nil {
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
	if d.wd != nil {
		// A connection that cannot take a deadline simply has none.
		_ = d.wd.SetWriteDeadline(time.Now().Add(d.write))
	}
	return d.ReadWriter.Write(p)
}

// armPacketDeadline is called by readFrame after a packet's '$': it
// bounds the time the rest of the packet may take to arrive, unless the
// rest is already buffered (the usual case, which then costs nothing). It
// reports whether it set a deadline, which disarmPacketDeadline must then
// clear.
func (c *conn) armPacketDeadline() bool {
	d, ok := c.w.(*deadlineConn)
	if !ok || d.rd == nil {
		return false
	}
	if buf, _ := c.r.Peek(c.r.Buffered()); len(buf) > 0 {
		if i := bytes.IndexByte(buf, '#'); i >= 0 && len(buf) >= i+3 {
			return false
		}
	}
	_ = d.rd.SetReadDeadline(time.Now().Add(d.packet))
	return true
}

// disarmPacketDeadline lifts the deadline armPacketDeadline set: the
// wait for the next packet has none.
func (c *conn) disarmPacketDeadline() {
	if d, ok := c.w.(*deadlineConn); ok && d.rd != nil {
		_ = d.rd.SetReadDeadline(time.Time{})
	}
}
