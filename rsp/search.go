package rsp

import (
	"bytes"
	"fmt"
)

// Packets that look at a range of memory in the stub, so that the client
// does not read it (manual, "General Query Packets"):
//
//	qCRC:addr,length                        -> C crc32 (gdb's compare-sections)
//	qSearch:memory:addr;length;pattern      -> 0, or 1,addr (gdb's find)
//
// Both read the range in chunks of bulkChunk bytes, each one
// process_vm_readv, into the session's reused buffer.

// searchPackets are the dispatch-table rows of qCRC and qSearch:memory.
func searchPackets() []entry {
	return []entry{
		{prefix: "qCRC:", handle: (*Session).crc},
		{prefix: "qSearch:memory:", handle: (*Session).searchMemory},
	}
}

// bulkChunk is how much qCRC and qSearch:memory read at a time.
const bulkChunk = 1 << 20

// crcTable is the table of the CRC-32 gdb computes in compare-sections
// (libiberty's xcrc32): polynomial 0x04c11db7, most significant bit first,
// no reflection and no final inversion. hash/crc32 is the reflected one.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// gdbCRC continues gdb's CRC-32 crc over p; a computation starts with
// 0xffffffff.
func gdbCRC(crc uint32, p []byte) uint32 {
	for _, b := range p {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^b]
	}
	return crc
}

// crc answers qCRC:addr,length with the CRC of the whole range, or an
// error if any of it cannot be read.
func (s *Session) crc(args []byte) reply {
	r, err := parseMemRead(args)
	if err != nil {
		return errorReply(err)
	}
	crc := uint32(0xffffffff)
	for addr, left := r.addr, r.length; left > 0; {
		want := min(left, bulkChunk)
		data, err := s.read(memRead{addr, want}, bulkChunk)
		if err != nil {
			return errorReply(err)
		}
		crc = gdbCRC(crc, data)
		if uint64(len(data)) < want {
			return errorReply(fmt.Errorf("read %#x: %w", addr+uint64(len(data)), errMemory))
		}
		addr += want
		left -= want
	}
	s.buf = appendHexUint(append(s.buf[:0], 'C'), uint64(crc))
	return dataReply(s.buf)
}

// search is a qSearch:memory request.
type search struct {
	addr    uint64
	length  uint64
	pattern []byte
}

// parseSearch decodes "addr;length;pattern"; the pattern is binary data,
// already unescaped, and may contain ';'. It aliases b.
func parseSearch(b []byte) (search, error) {
	a, rest, ok := bytes.Cut(b, []byte(";"))
	if !ok {
		return search{}, fmt.Errorf("%.40q: missing ';length': %w", b, errMalformed)
	}
	l, pat, ok := bytes.Cut(rest, []byte(";"))
	if !ok {
		return search{}, fmt.Errorf("%.40q: missing ';pattern': %w", b, errMalformed)
	}
	addr, err := parseHexUint(a)
	if err != nil {
		return search{}, fmt.Errorf("address %q: %w", a, err)
	}
	length, err := parseHexUint(l)
	if err != nil {
		return search{}, fmt.Errorf("length %q: %w", l, err)
	}
	if len(pat) == 0 {
		return search{}, fmt.Errorf("empty pattern: %w", errMalformed)
	}
	return search{addr, length, pat}, nil
}

// appendSearch encodes q as parseSearch decodes it.
func appendSearch(dst []byte, q search) []byte {
	dst = append(appendHexUint(dst, q.addr), ';')
	dst = append(appendHexUint(dst, q.length), ';')
	return append(dst, q.pattern...)
}

// searchMemory answers qSearch:memory with the first address in the range
// where the pattern starts (the whole pattern inside the range), "0" when
// there is none, or an error when the range cannot be read up to a match.
func (s *Session) searchMemory(args []byte) reply {
	q, err := parseSearch(args)
	if err != nil {
		return errorReply(err)
	}
	// The pattern aliases the packet, which stays put until the reply.
	pat := q.pattern
	plen := uint64(len(pat))
	chunk := max(bulkChunk, 2*plen)
	if q.length < plen {
		return textReply("0")
	}
	// Each chunk overlaps the next by len(pat)-1 bytes, so a match that
	// straddles two chunks is found in the first.
	end := q.addr + q.length // may wrap to 0 at the top of memory
	for addr := q.addr; ; {
		left := end - addr
		want := min(left, chunk)
		data, err := s.read(memRead{addr, want}, chunk)
		if err != nil {
			return errorReply(err)
		}
		if i := bytes.Index(data, pat); i >= 0 {
			s.buf = appendHexUint(append(s.buf[:0], "1,"...), addr+uint64(i))
			return dataReply(s.buf)
		}
		if uint64(len(data)) < want {
			return errorReply(fmt.Errorf("read %#x: %w", addr+uint64(len(data)), errMemory))
		}
		if want == left {
			return textReply("0")
		}
		addr += want - (plen - 1)
	}
}
