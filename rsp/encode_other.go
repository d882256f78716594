//go:build !amd64 || purego

package rsp

// escapeMasks sets masks[k] to the bitmap of the bytes of p[64k:64k+64]
// that need escaping (bit i for byte 64k+i), for every k < len(masks),
// and returns the checksum of those bytes; p must hold 64×len(masks)
// bytes.
func escapeMasks(p []byte, masks []uint64) (sum byte) {
	for k := range masks {
		masks[k] = blockMask(p[64*k : 64*k+64])
	}
	return checksum(p[:64*len(masks)])
}
