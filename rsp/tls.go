package rsp

import (
	"bytes"
	"fmt"

	"procgdb/inferior"
)

// Thread-local storage, per the manual's "General Query Packets":
//
//	qGetTLSAddr:thread-id,offset,lm  -> the variable's address in hex
//
// offset is the variable's offset in its module's TLS block and lm the
// address of the module's link_map (as qXfer:libraries-svr4 reports it).
// gdb sends it without qSupported negotiation, whenever it evaluates a
// thread-local variable (a __thread variable, errno), and shows an error
// reply as "Remote target failed to process qGetTLSAddr request"; without
// the packet it says "Remote target doesn't support qGetTLSAddr packet".

// tlsPackets is qGetTLSAddr's dispatch-table row.
func tlsPackets() []entry {
	return []entry{
		{prefix: "qGetTLSAddr:", enabled: isTLSLocator, handle: (*Session).getTLSAddr},
	}
}

// TLSLocator is implemented by targets that find thread-local variables.
// The session answers qGetTLSAddr only when its Target is one.
type TLSLocator interface {
	// TLSAddress returns the address of the variable at offset in the
	// TLS block that thread t has for the module whose link_map is at lm.
	// lm is 0 when the client knows no link_map (a static program).
	TLSAddress(t inferior.ThreadID, offset, lm uint64) (uint64, error)
}

func isTLSLocator(s *Session) bool {
	_, ok := s.t.(TLSLocator)
	return ok
}

// tlsRequest is a qGetTLSAddr request.
type tlsRequest struct {
	thread inferior.ThreadID
	offset uint64
	lm     uint64
}

// parseGetTLSAddr decodes "thread-id,offset,lm". The thread must be one
// thread (or "any"), not all of them.
func parseGetTLSAddr(b []byte) (tlsRequest, error) {
	fields := bytes.Split(b, []byte(","))
	if len(fields) != 3 {
		return tlsRequest{}, fmt.Errorf("%.40q: want thread-id,offset,lm: %w", b, errMalformed)
	}
	id, err := parseThreadID(fields[0])
	if err != nil {
		return tlsRequest{}, err
	}
	if id.PID == inferior.All || id.TID == inferior.All {
		return tlsRequest{}, fmt.Errorf("thread id %q: all threads have no one TLS: %w", fields[0], errMalformed)
	}
	offset, err := parseHexUint(fields[1])
	if err != nil {
		return tlsRequest{}, fmt.Errorf("offset %q: %w", fields[1], err)
	}
	lm, err := parseHexUint(fields[2])
	if err != nil {
		return tlsRequest{}, fmt.Errorf("lm %q: %w", fields[2], err)
	}
	return tlsRequest{id, offset, lm}, nil
}

// appendGetTLSAddr encodes r as parseGetTLSAddr decodes it.
func appendGetTLSAddr(dst []byte, r tlsRequest) []byte {
	dst = append(appendThreadID(dst, r.thread, r.thread.PID != inferior.Any), ',')
	dst = append(appendHexUint(dst, r.offset), ',')
	return appendHexUint(dst, r.lm)
}

// getTLSAddr answers qGetTLSAddr.
func (s *Session) getTLSAddr(args []byte) reply {
	r, err := parseGetTLSAddr(args)
	if err != nil {
		return errorReply(err)
	}
	t, err := s.checkThread(r.thread)
	if err == nil {
		t, err = s.pickThread(t)
	}
	if err != nil {
		return errorReply(err)
	}
	addr, err := s.t.(TLSLocator).TLSAddress(t, r.offset, r.lm)
	if err != nil {
		return errorReply(err)
	}
	s.buf = appendHexUint(s.buf[:0], addr)
	return dataReply(s.buf)
}
