package rsp

import (
	"encoding/binary"
	"math/bits"
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
	in := buf[src : src+n]
	j := dst
	for len(in) > 0 {
		i := plainPrefix(in)
		copy(buf[j:], in[:i])
		sum += checksum(in[:i])
		j += i
		if i == len(in) {
			break
		}
		e := in[i] ^ escapeXor
		buf[j], buf[j+1] = escapeByte, e
		sum += escapeByte + e
		j += 2
		in = in[i+1:]
	}
	return j, sum
}

// escapes appends the positions of the bytes of p that need escaping to
// idx, up to limit of them; ok is false if there are more.
func escapes(idx []int, p []byte, limit int) (_ []int, ok bool) {
	for off := 0; off < len(p); {
		i := plainPrefix(p[off:])
		if off+i == len(p) {
			break
		}
		if len(idx) == limit {
			return idx, false
		}
		idx = append(idx, off+i)
		off += i + 1
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

// escapedLen returns how long p is once escaped.
func escapedLen(p []byte) int {
	n := len(p)
	for len(p) > 0 {
		i := plainPrefix(p)
		if i == len(p) {
			break
		}
		n++
		p = p[i+1:]
	}
	return n
}

// Words of eight copies of each byte that needs escaping, for plainPrefix.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
	dollar8  = '$' * lowBits
	hash8    = '#' * lowBits
	escape8  = escapeByte * lowBits
	star8    = rleByte * lowBits
)

// hasZeroByte returns a word with the high bit set in every byte of v that
// is zero, and possibly in bytes above one that is; the lowest set bit is
// exact.
func hasZeroByte(v uint64) uint64 { return (v - lowBits) &^ v & highBits }

// plainPrefix returns the length of the longest prefix of p that needs no
// escaping, testing eight bytes at a time.
func plainPrefix(p []byte) int {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		w := binary.LittleEndian.Uint64(p[i:])
		m := hasZeroByte(w^dollar8) | hasZeroByte(w^hash8) | hasZeroByte(w^escape8) | hasZeroByte(w^star8)
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(p); i++ {
		if needsEscape[p[i]] {
			return i
		}
	}
	return i
}

// checksum returns the sum of p's bytes modulo 256, adding eight bytes at
// a time in four 16-bit lanes, each taking two bytes per word, so that a
// lane cannot overflow within 128 words.
func checksum(p []byte) byte {
	var sum byte
	for len(p) >= 8 {
		chunk := min(len(p)/8, 128)
		var acc uint64
		for i := range chunk {
			w := binary.LittleEndian.Uint64(p[8*i:])
			acc += w&0x00ff00ff00ff00ff + (w>>8)&0x00ff00ff00ff00ff
		}
		sum += byte(acc) + byte(acc>>16) + byte(acc>>32) + byte(acc>>48)
		p = p[8*chunk:]
	}
	for _, b := range p {
		sum += b
	}
	return sum
}
