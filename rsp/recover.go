package rsp

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// errInternal is the reply to a packet whose handler panicked.
var errInternal = errors.New("internal error")

// serveOne answers one packet for Serve. A handler that panics is a bug,
// but it must not take procgdb down with it: a crash would leave every
// client's breakpoints in their processes (the kernel detaches a dead
// tracer's tracees, int3 bytes and all) and end every other session. The
// panic is logged with its stack and the packet gets an error reply.
// Fuzz targets call dispatch directly, so that they still see panics.
func (s *Session) serveOne(p []byte) (r reply) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "packet", truncate(p, wireLogMax), "panic", v, "stack", string(debug.Stack()))
			r = errorReply(fmt.Errorf("%w: %v", errInternal, v))
		}
	}()
	return s.dispatch(p)
}

// readFrame reads the next frame from the client. A panic of the framing
// (a bug) ends this session, as a connection that failed, rather than
// procgdb.
func (s *Session) readFrame() (f frame, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("reader panicked", "panic", v, "stack", string(debug.Stack()))
			f, err = frame{}, fmt.Errorf("%w: %v", errInternal, v)
		}
	}()
	return s.conn.readFrame()
}

// truncate returns p as text, shortened to n bytes.
func truncate(p []byte, n int) string {
	if len(p) > n {
		return string(p[:n]) + "…"
	}
	return string(p)
}
