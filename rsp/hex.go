package rsp

import "slices"

// Hex encoding as RSP uses it: data is two lowercase digits per byte, in
// memory order; numbers (addresses, lengths, thread ids) are big-endian
// digits without leading zeros. Every function appends to a caller's
// buffer so that hot paths (memory, registers) do not allocate per call.

const hexDigits = "0123456789abcdef"

// Errors of hex decoding; a request containing one is malformed.
var (
	errHexDigit    = &protoError{codeMalformed, "invalid hex digit"}
	errHexOdd      = &protoError{codeMalformed, "odd number of hex digits"}
	errHexEmpty    = &protoError{codeMalformed, "empty hex number"}
	errHexOverflow = &protoError{codeMalformed, "hex number too large"}
)

// hexValue maps an ASCII byte to its hex value, or -1. It is filled once
// and only read.
var hexValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range 10 {
		t['0'+i] = int8(i)
	}
	for i := range 6 {
		t['a'+i] = int8(10 + i)
		t['A'+i] = int8(10 + i)
	}
	return t
}()

// appendHex appends the hex encoding of src to dst.
func appendHex(dst, src []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(src))[:n+2*len(src)]
	out := dst[n:]
	for i, b := range src {
		out[2*i] = hexDigits[b>>4]
		out[2*i+1] = hexDigits[b&0xf]
	}
	return dst
}

// appendHexByte appends b as exactly two hex digits (signal numbers and
// exit statuses in stop replies).
func appendHexByte(dst []byte, b byte) []byte {
	return append(dst, hexDigits[b>>4], hexDigits[b&0xf])
}

// appendHexUint appends v in hex without leading zeros ("0" for zero).
func appendHexUint(dst []byte, v uint64) []byte {
	var buf [16]byte
	i := len(buf)
	for {
		i--
		buf[i] = hexDigits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// decodeHex appends the bytes that the hex digits in src encode to dst.
func decodeHex(dst, src []byte) ([]byte, error) {
	if len(src)%2 != 0 {
		return dst, errHexOdd
	}
	n := len(dst)
	dst = slices.Grow(dst, len(src)/2)[:n+len(src)/2]
	out := dst[n:]
	for i := range out {
		hi, lo := hexValue[src[2*i]], hexValue[src[2*i+1]]
		if hi < 0 || lo < 0 {
			return dst[:n], errHexDigit
		}
		out[i] = byte(hi)<<4 | byte(lo)
	}
	return dst, nil
}

// parseHexByte decodes two hex digits (a checksum).
func parseHexByte(hi, lo byte) (byte, error) {
	h, l := hexValue[hi], hexValue[lo]
	if h < 0 || l < 0 {
		return 0, errHexDigit
	}
	return byte(h)<<4 | byte(l), nil
}

// parseHexUint decodes a hex number of up to 64 bits; leading zeros are
// allowed.
func parseHexUint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errHexEmpty
	}
	var v uint64
	for _, c := range b {
		d := hexValue[c]
		if d < 0 {
			return 0, errHexDigit
		}
		if v>>60 != 0 {
			return 0, errHexOverflow
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}

// parseHexInt decodes a non-negative hex number that must fit in an int of
// at most 31 bits: process and thread ids, register numbers, lengths.
func parseHexInt(b []byte) (int, error) {
	v, err := parseHexUint(b)
	if err != nil {
		return 0, err
	}
	if v > 1<<31-1 {
		return 0, errHexOverflow
	}
	return int(v), nil
}

// lldb answers its queries (qHostInfo, qMemoryRegionInfo, ...) with
// lists of "key:value;" pairs, numbers in hex and text often hex-encoded.

// kv appends "key:value;".
func kv(dst []byte, key, value string) []byte {
	return append(append(append(append(dst, key...), ':'), value...), ';')
}

// kvHex appends "key:HEX;" for a hex-encoded string value.
func kvHex(dst []byte, key, value string) []byte {
	return append(appendHex(append(append(dst, key...), ':'), []byte(value)), ';')
}

// kvUint appends "key:N;" with N in hex.
func kvUint(dst []byte, key string, v uint64) []byte {
	return append(appendHexUint(append(append(dst, key...), ':'), v), ';')
}
