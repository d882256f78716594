package agentexpr

import (
	"bytes"
	"fmt"
)

// blockSize is the unit the reader asks the process for. An aligned block
// never crosses a page, so it is readable whole or not at all, and one
// read serves the neighbouring variables a condition tends to compare
// (locals of one frame, fields of one struct).
const blockSize = 64

// reader reads a run's memory in blocks and keeps the last few, so that
// each read costs the caller one system call at most and most cost none.
// The process may change while the condition runs (other threads go on):
// the cache only makes one run see one state of each block.
type reader struct {
	mem    Memory
	blocks [4]block
	next   int // the slot to reuse next
}

type block struct {
	base uint64
	n    int // bytes read from base; the rest is unreadable
	data [blockSize]byte
	used bool
}

// block returns the block at base, reading it if it is not cached.
func (r *reader) block(base uint64) *block {
	for i := range r.blocks {
		if b := &r.blocks[i]; b.used && b.base == base {
			return b
		}
	}
	b := &r.blocks[r.next]
	r.next = (r.next + 1) % len(r.blocks)
	*b = block{base: base, used: true}
	b.n, _ = r.mem.ReadMemory(base, b.data[:])
	b.n = min(max(b.n, 0), blockSize)
	return b
}

// read fills dst from addr; a read that is not entirely possible fails.
func (r *reader) read(addr uint64, dst []byte) error {
	if r.mem == nil {
		return fmt.Errorf("read %#x: memory: %w", addr, ErrNoEnv)
	}
	base := addr &^ (blockSize - 1)
	if off := int(addr - base); off+len(dst) <= blockSize {
		if b := r.block(base); off+len(dst) <= b.n {
			copy(dst, b.data[off:])
			return nil
		}
	}
	// Across blocks, or unreadable: ask for exactly the bytes, which also
	// gets the process's own error.
	n, err := r.mem.ReadMemory(addr, dst)
	if n < len(dst) {
		if err == nil {
			err = ErrUnreadable
		}
		return fmt.Errorf("read %d bytes at %#x: %w", len(dst), addr, err)
	}
	return nil
}

// readString reads the NUL-terminated string at addr, at most limit bytes
// of it.
func (r *reader) readString(addr uint64, limit int) ([]byte, error) {
	if r.mem == nil {
		return nil, fmt.Errorf("read %#x: memory: %w", addr, ErrNoEnv)
	}
	var s []byte
	for a := addr; len(s) < limit; {
		chunk := r.tail(a)
		if len(chunk) == 0 {
			return nil, fmt.Errorf("string at %#x: read %#x: %w", addr, a, ErrUnreadable)
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			s = append(s, chunk[:i]...)
			break
		}
		s = append(s, chunk...)
		a += uint64(len(chunk))
		if a == 0 {
			break // the top of the address space
		}
	}
	return s[:min(len(s), limit)], nil
}

// tail returns the readable bytes from addr to the end of its block:
// from the cache, or read directly when the block's read stopped short
// of addr (a Memory whose readable ranges need not be whole pages).
func (r *reader) tail(addr uint64) []byte {
	base := addr &^ (blockSize - 1)
	off := int(addr - base)
	b := r.block(base)
	if off < b.n {
		return b.data[off:b.n]
	}
	buf := make([]byte, blockSize-off)
	n, _ := r.mem.ReadMemory(addr, buf)
	return buf[:min(max(n, 0), len(buf))]
}
