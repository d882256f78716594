package client

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Memory, per the manual's "Packets": m and M carry the data in hex, x and
// X in binary. X is probed as gdb probes it (an empty write); x is gdb's
// when the stub offers binary-upload+ (the reply starts with 'b'), and
// lldb's when a stub that speaks native signals (lldb-server) answers
// "x0,0" with OK (the reply is the data alone).

// memMode says which packets move memory.
type memMode int

const (
	memUnknown    memMode = iota // not probed yet (writes)
	memHex                       // m, M
	memBinary                    // gdb's x, or X
	memBinaryLLDB                // lldb's x
)

// MemoryError reports where memory stopped being readable or writable:
// the bytes before Addr were transferred, the byte at Addr was not.
type MemoryError struct {
	Addr uint64
	Err  error // what the stub said, if it said more than a short reply
}

func (e *MemoryError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("client: memory at %#x not accessible", e.Addr)
	}
	return fmt.Sprintf("client: memory at %#x: %v", e.Addr, e.Err)
}

func (e *MemoryError) Unwrap() error { return e.Err }

// probeMemory chooses how memory is read.
func (c *Client) probeMemory() error {
	c.memRead = memHex
	switch {
	case c.Supports("binary-upload"):
		c.memRead = memBinary
	case c.native:
		r, err := c.raw.Exchange("x0,0")
		if err != nil {
			return err
		}
		if r == "OK" {
			c.memRead = memBinaryLLDB
		}
	}
	return nil
}

// readChunk is how many bytes one read request asks for.
func (c *Client) readChunk() int {
	n := c.packetSize - 8 // "b" or "OK" and the framing's slack
	if c.memRead == memHex {
		n /= 2
	}
	return max(1, min(n, maxChunk))
}

// ReadMemory reads len(p) bytes at addr in the selected thread's process,
// in as few requests as the stub's packet size allows. Like
// io.ReaderAt, it returns n < len(p) only with an error: a *MemoryError
// at addr+n when the memory there cannot be read.
func (c *Client) ReadMemory(addr uint64, p []byte) (int, error) {
	if err := c.ready("read memory"); err != nil {
		return 0, err
	}
	chunk := c.readChunk()
	n := 0
	for n < len(p) {
		at := addr + uint64(n)
		got, err := c.readSome(at, p[n:n+min(chunk, len(p)-n)])
		n += got
		if err != nil {
			return n, &MemoryError{Addr: addr + uint64(n), Err: err}
		}
		if got == 0 {
			return n, &MemoryError{Addr: addr + uint64(n)}
		}
	}
	return n, nil
}

// pageSize is the granularity of memory protection on x86-64 Linux.
const pageSize = 4096

// readSome reads what one request can of dst at addr. A stub that
// refuses a range that is only partly readable (gdbserver) is asked again
// for the part in addr's page, which is readable or not as a whole.
func (c *Client) readSome(addr uint64, dst []byte) (int, error) {
	c.req = c.appendReadRequest(c.req[:0], addr, len(dst))
	got, err := c.readReply(c.req, dst)
	var re *ReplyError
	if inPage := int(pageSize - addr%pageSize); errors.As(err, &re) && len(dst) > inPage {
		c.req = c.appendReadRequest(c.req[:0], addr, inPage)
		got, err = c.readReply(c.req, dst[:inPage])
	}
	return got, err
}

// appendReadRequest appends the request for n bytes at addr.
func (c *Client) appendReadRequest(dst []byte, addr uint64, n int) []byte {
	op := byte('m')
	if c.memRead != memHex {
		op = 'x'
	}
	dst = strconv.AppendUint(append(dst, op), addr, 16)
	return strconv.AppendUint(append(dst, ','), uint64(n), 16)
}

// readReply sends read request req and copies the data of the reply to
// dst, returning how much there was: fewer bytes than asked for when the
// stub read less (unreadable memory, or a reply that would not fit its
// packet).
func (c *Client) readReply(req, dst []byte) (int, error) {
	r, err := c.raw.RequestBytes(req)
	if err != nil {
		c.fail(err)
		return 0, err
	}
	switch c.memRead {
	case memBinary:
		if len(r) == 0 || r[0] != 'b' {
			return 0, fmt.Errorf("%s: reply %.40q: want 'b' and data", req, r)
		}
		r = r[1:]
	case memBinaryLLDB:
	default:
		if len(r)%2 != 0 || len(r)/2 > len(dst) {
			return 0, fmt.Errorf("%s: reply %.40q: want up to %d bytes in hex", req, r, len(dst))
		}
		if _, err := hex.Decode(dst, r); err != nil {
			return 0, fmt.Errorf("%s: reply %.40q: %w", req, r, err)
		}
		return len(r) / 2, nil
	}
	if len(r) > len(dst) {
		return 0, fmt.Errorf("%s: reply of %d bytes, want up to %d", req, len(r), len(dst))
	}
	return copy(dst, r), nil
}

// WriteMemory writes p at addr in the selected thread's process, with X
// where the stub has it and M otherwise, in as few requests as its packet
// size allows. When a request fails the error is a *MemoryError; the bytes
// before its Addr were written.
func (c *Client) WriteMemory(addr uint64, p []byte) error {
	if err := c.ready("write memory"); err != nil {
		return err
	}
	if c.memWrite == memUnknown {
		if err := c.probeWrite(addr); err != nil {
			return err
		}
	}
	for n := 0; n < len(p); {
		at := addr + uint64(n)
		var k int
		c.req, k = c.appendWriteRequest(c.req[:0], at, p[n:])
		r, err := c.raw.RequestBytes(c.req)
		if err != nil {
			c.fail(err)
			return &MemoryError{Addr: at, Err: err}
		}
		if string(r) != "OK" {
			return &MemoryError{Addr: at, Err: fmt.Errorf("unexpected reply %.40q", r)}
		}
		n += k
	}
	return nil
}

// probeWrite finds out whether the stub has X, with an empty write at
// addr, as gdb does: the empty reply means it does not.
func (c *Client) probeWrite(addr uint64) error {
	_, err := c.request(fmt.Sprintf("X%x,0:", addr))
	var re *ReplyError
	switch {
	case err == nil, errors.As(err, &re):
		c.memWrite = memBinary // it knows X, whatever it thinks of addr
	case errors.Is(err, ErrUnsupported):
		c.memWrite = memHex
	default:
		return fmt.Errorf("client: write memory: %w", err)
	}
	return nil
}

// appendWriteRequest appends the longest write request for the start of p
// at addr that fits the stub's packet size, and returns how many bytes of
// p it carries.
func (c *Client) appendWriteRequest(dst []byte, addr uint64, p []byte) ([]byte, int) {
	op := byte('M')
	if c.memWrite == memBinary {
		op = 'X'
	}
	// The header, with room for the longest length.
	budget := c.packetSize - 1 - len(fmt.Sprintf("%c%x,%x:", op, addr, len(p)))
	k := fitEscaped(p, budget)
	if op == 'M' {
		k = max(1, min(len(p), budget/2, maxChunk))
	}
	dst = strconv.AppendUint(append(dst, op), addr, 16)
	dst = append(strconv.AppendUint(append(dst, ','), uint64(k), 16), ':')
	if op == 'M' {
		return hex.AppendEncode(dst, p[:k]), k
	}
	return append(dst, p[:k]...), k
}
