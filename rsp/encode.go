package rsp

import (
	"encoding/binary"
	"iter"
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
	out, sum := appendEscaped(buf[:dst], buf[src:src+n])
	return len(out), sum
}

// escapeSum is what escaping one byte adds to the checksum: the bytes to
// escape all have bit 5 set, so b becomes '}' and b-0x20.
const escapeSum = escapeByte - escapeXor

// appendEscaped appends p escaped to dst and returns the result and the
// checksum of what it appended. p may lie in dst's array after its end,
// at least len(p) bytes after it, if the array has room for the result:
// the writes then stay behind the reads (see escapeInPlace).
func appendEscaped(dst, p []byte) (_ []byte, sum byte) {
	sc := newEscapeScan(p)
	var n byte // bytes escaped, modulo 256
	for off := 0; ; {
		i := sc.find(off)
		dst = append(dst, p[off:i]...)
		if i == len(p) {
			return dst, sc.sum + n*escapeSum
		}
		dst = append(dst, escapeByte, p[i]^escapeXor)
		n++
		off = i + 1
	}
}

// escapes appends the positions of the bytes of p that need escaping to
// idx, up to limit of them; ok is false if there are more. sum is the
// checksum of p escaped, valid when ok.
func escapes(idx []int, p []byte, limit int) (_ []int, sum byte, ok bool) {
	sc := newEscapeScan(p)
	n := len(idx)
	for i := range sc.all() {
		if len(idx) == limit {
			return idx, 0, false
		}
		idx = append(idx, i)
	}
	return idx, sc.sum + byte(len(idx)-n)*escapeSum, true
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

// escapeScan finds the bytes of a payload that need escaping, in order.
// It works on bitmaps of 64-byte blocks, a window of them at a time,
// which escapeMasks computes with vector instructions: in random data one
// byte in 64 needs escaping, so a byte-by-byte test is slow, and even
// bytes.IndexByte for each special byte in turn stops too often to be
// fast.
type escapeScan struct {
	p     []byte
	start int  // where the block of masks[0] starts in p, -1 for none yet
	n     int  // how many masks hold blocks of p
	sum   byte // checksum of the blocks loaded so far
	masks [64]uint64
}

func newEscapeScan(p []byte) escapeScan {
	return escapeScan{p: p, start: -1}
}

// find returns the position of the first byte at or after from that needs
// escaping, or len(p) if none does. from must not decrease from one call
// to the next; once find has returned len(p), sum is p's checksum.
func (s *escapeScan) find(from int) int {
	// Bytes before the window, if from lies there, were skipped on the
	// way to it: none needs escaping.
	from = max(from, s.start)
	for from < len(s.p) {
		if s.start < 0 || from >= s.start+64*s.n {
			s.load(from &^ 63)
		}
		k := (from - s.start) / 64
		m := s.masks[k] &^ (1<<(from%64) - 1)
		for m == 0 && k+1 < s.n {
			k++
			m = s.masks[k]
		}
		if m != 0 {
			return s.start + 64*k + bits.TrailingZeros64(m)
		}
		from = s.start + 64*s.n
	}
	return len(s.p)
}

// all yields the positions of the bytes that need escaping, in order,
// from the start; once it has yielded them all, sum is p's checksum. The
// loop over it may write to p behind the position it was given.
func (s *escapeScan) all() iter.Seq[int] {
	return func(yield func(int) bool) {
		for start := 0; start < len(s.p); start += 64 * len(s.masks) {
			s.load(start)
			for k, m := range s.masks[:s.n] {
				for ; m != 0; m &= m - 1 {
					if !yield(start + 64*k + bits.TrailingZeros64(m)) {
						return
					}
				}
			}
		}
	}
}

// load fills masks with the blocks of p from start on, as many as fit,
// and adds them to sum; the last block of p may be short. Loading every
// window once, in order, sums all of p.
func (s *escapeScan) load(start int) {
	end := min(len(s.p), start+64*len(s.masks))
	full := (end - start) / 64
	s.sum += escapeMasks(s.p[start:start+64*full], s.masks[:full])
	s.start, s.n = start, full
	if start+64*full < end {
		s.masks[full] = blockMask(s.p[start+64*full : end])
		s.sum += checksum(s.p[start+64*full : end])
		s.n++
	}
}

// blockMask returns the bitmap of the bytes of p, at most 64, that need
// escaping.
func blockMask(p []byte) uint64 {
	var m uint64
	for i, b := range p {
		if needsEscape[b] {
			m |= 1 << i
		}
	}
	return m
}

// checksum returns the sum of p's bytes modulo 256. It adds 32 bytes a
// round as four words, in 16-bit lanes: a takes the even bytes of each
// word and b the odd ones, and the words' terms do not wait for each other
// as one running sum would. A block of 32 rounds adds at most 4×32 bytes
// of 255 to a lane of a or of b, 65,280 once the two are added: no lane
// overflows.
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

// Run-length encoding, which the manual's "Overview" allows in replies: a
// byte repeated four times or more becomes the byte, '*' and a count of
// the repeats that follow it plus 29 (a printable byte). gdbserver
// encodes its replies so, and gdb reads a reply in pieces of 8 KiB: a
// 4 KiB memory read in hex (8,196 bytes framed) takes gdb two reads and
// two turns of its event loop, where the encoded reply of memory with
// runs (code padding, zeros) takes one.
const (
	minRun   = 4  // shorter runs would not shrink
	maxCount = 95 // the largest count: 96 would be '}', the escape byte
)

// compressRuns run-length encodes p, a payload that needs no escapes, in
// place, and returns its new length and what the encoding adds to its
// checksum. A count never stands for six or seven repeats, which would be
// '#' or '$'.
func compressRuns(p []byte) (n int, delta byte) {
	i := firstRun(p)
	if i < 0 {
		return len(p), 0
	}
	w := i
	for i >= 0 {
		c := p[i]
		end := i + minRun
		for end < len(p) && p[end] == c {
			end++
		}
		for left := end - i; left > 0; {
			p[w] = c
			w++
			left--
			count := min(left, maxCount)
			if count == 6 || count == 7 {
				count = 5
			}
			if count >= minRun-1 {
				p[w], p[w+1] = rleByte, byte(count+rleBias)
				w += 2
				left -= count
				delta += rleByte + byte(count+rleBias) - byte(count)*c
			}
		}
		next := firstRun(p[end:])
		if next < 0 {
			w += copy(p[w:], p[end:])
			break
		}
		w += copy(p[w:], p[end:end+next])
		i = end + next
	}
	return w, delta
}

// firstRun returns where the first run of minRun equal bytes in p starts,
// or -1. It looks at eight starts at a time.
func firstRun(p []byte) int {
	const low7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	le := binary.LittleEndian
	i := 0
	for ; i+11 <= len(p); i += 8 {
		q := p[i : i+11]
		w0, w1, w2, w3 := le.Uint64(q[0:]), le.Uint64(q[1:]), le.Uint64(q[2:]), le.Uint64(q[3:])
		// Byte j of x is zero where p[i+j] equals the three bytes after
		// it; of z, 0x80 there.
		x := (w0 ^ w1) | (w1 ^ w2) | (w2 ^ w3)
		if z := ^((x&low7 + low7) | x) & high; z != 0 {
			return i + bits.TrailingZeros64(z)/8
		}
	}
	for ; i+minRun <= len(p); i++ {
		if c := p[i]; p[i+1] == c && p[i+2] == c && p[i+3] == c {
			return i
		}
	}
	return -1
}
