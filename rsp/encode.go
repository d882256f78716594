package rsp

import (
	"bytes"
	"encoding/binary"
)

// Encoders for the hot path: memory replies are built in one buffer that
// becomes the packet on the wire ('$', payload, '#', checksum). The target
// reads memory straight into that buffer and the encoders below turn it
// into hex or escaped binary where it lies, computing the checksum as they
// go, so a reply costs one copy by the kernel and one pass over the bytes.

// hexPairs holds the two hex digits of every byte, first digit in the low
// byte, so that one 16-bit store writes both in memory order.
var hexPairs = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(hexDigits[i>>4]) | uint16(hexDigits[i&0xf])<<8
	}
	return t
}()

// hexPairSums holds the checksum contribution of each byte's two digits.
var hexPairSums = func() (t [256]byte) {
	for i := range t {
		t[i] = hexDigits[i>>4] + hexDigits[i&0xf]
	}
	return t
}()

// hexInPlace hex-encodes the n bytes at buf[src:src+n] into buf[dst:dst+2n]
// and returns the checksum of the digits. The regions may overlap as long
// as src >= dst+n: each byte is read before its position is written.
func hexInPlace(buf []byte, dst, src, n int) byte {
	in := buf[src : src+n]
	out := buf[dst : dst+2*n]
	var sum byte
	for i, b := range in {
		binary.LittleEndian.PutUint16(out[2*i:], hexPairs[b])
		sum += hexPairSums[b]
	}
	return sum
}

// escapeInPlace escapes the n bytes at buf[src:src+n] into buf from dst
// on, as binary data is escaped in a packet ('$', '#', '}' and '*' become
// '}' and the byte XOR 0x20), and returns the end of what it wrote and its
// checksum. It needs src >= dst+n (every byte may double); buf must have
// room for 2n bytes from dst.
func escapeInPlace(buf []byte, dst, src, n int) (end int, sum byte) {
	out, sum := appendEscaped(buf[:dst], buf[src:src+n])
	return len(out), sum
}

// appendEscaped appends p escaped to dst and returns the result and the
// checksum of what it appended. p may lie in dst's array after its end,
// at least len(p) bytes after it, if the array has room for the result:
// the writes then stay behind the reads (see escapeInPlace).
func appendEscaped(dst, p []byte) (_ []byte, sum byte) {
	sc := newEscapeScan(p)
	for off := 0; ; {
		i := sc.find(off)
		run := p[off:i]
		sum += checksum(run)
		dst = append(dst, run...)
		if i == len(p) {
			return dst, sum
		}
		e := p[i] ^ escapeXor
		sum += escapeByte + e
		dst = append(dst, escapeByte, e)
		off = i + 1
	}
}

// escapes appends the positions of the bytes of p that need escaping to
// idx, up to limit of them; ok is false if there are more.
func escapes(idx []int, p []byte, limit int) (_ []int, ok bool) {
	sc := newEscapeScan(p)
	for i := sc.find(0); i < len(p); i = sc.find(i + 1) {
		if len(idx) == limit {
			return idx, false
		}
		idx = append(idx, i)
	}
	return idx, true
}

// escapeBackward escapes, in place, the n bytes at the start of p, whose
// bytes at positions idx (ascending, from escapes) need escaping; p must
// be n+len(idx) long. The runs between escaped bytes move right, last
// first, so nothing is overwritten before it has moved.
func escapeBackward(p []byte, n int, idx []int) {
	end := n
	for k := len(idx) - 1; k >= 0; k-- {
		at := idx[k]
		copy(p[at+1+k+1:end+k+1], p[at+1:end])
		b := p[at]
		p[at+k], p[at+k+1] = escapeByte, b^escapeXor
		end = at
	}
}

// specials are the bytes that need escaping in a payload (needsEscape).
var specials = [...]byte{'$', '#', escapeByte, rleByte}

// escapeScan finds the bytes of a payload that need escaping, in order.
// It searches for each special byte on its own with bytes.IndexByte,
// which is vectorized, and remembers where each occurs next: in random
// data each occurs once in 256 bytes, so each search skips a long run,
// and over the whole payload every byte is searched four times at the
// speed of IndexByte instead of tested one by one or one word at a time.
type escapeScan struct {
	p []byte
	// next[k] is where specials[k] next occurs at or after the last
	// position asked for, len(p) if nowhere; -1 before the first search.
	next [len(specials)]int
}

func newEscapeScan(p []byte) escapeScan {
	return escapeScan{p: p, next: [len(specials)]int{-1, -1, -1, -1}}
}

// find returns the position of the first byte at or after from that needs
// escaping, or len(p) if none does. from must not decrease from one call
// to the next.
func (s *escapeScan) find(from int) int {
	at := len(s.p)
	for k, c := range specials {
		if s.next[k] < from {
			s.next[k] = len(s.p)
			if i := bytes.IndexByte(s.p[from:], c); i >= 0 {
				s.next[k] = from + i
			}
		}
		at = min(at, s.next[k])
	}
	return at
}

// checksum returns the sum of p's bytes modulo 256. It adds 32 bytes at a
// time as four words, in 16-bit lanes: a takes the even bytes of each word
// and b the odd ones, so four independent adds per word keep the
// processor busy. A block of 32 rounds adds at most 4×32 bytes of 255 to
// a lane of a or of b, 65,280 once the two are added: no lane overflows.
func checksum(p []byte) byte {
	const even = 0x00ff00ff00ff00ff
	var sum byte
	for len(p) >= 32 {
		q := p[:min(len(p), 32*32)&^31]
		p = p[len(q):]
		var a, b uint64
		for ; len(q) >= 32; q = q[32:] {
			w0 := binary.LittleEndian.Uint64(q[0:])
			w1 := binary.LittleEndian.Uint64(q[8:])
			w2 := binary.LittleEndian.Uint64(q[16:])
			w3 := binary.LittleEndian.Uint64(q[24:])
			a += w0&even + w1&even + w2&even + w3&even
			b += (w0>>8)&even + (w1>>8)&even + (w2>>8)&even + (w3>>8)&even
		}
		a += b
		sum += byte(a) + byte(a>>16) + byte(a>>32) + byte(a>>48)
	}
	for _, c := range p {
		sum += c
	}
	return sum
}
