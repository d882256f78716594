//go:build amd64 && !purego

package rsp

// escapeMasks sets masks[k] to the bitmap of the bytes of p[64k:64k+64]
// that need escaping (bit i for byte 64k+i), for every k < len(masks),
// and returns the checksum of those bytes; p must hold 64×len(masks)
// bytes. It compares 16 bytes at a time with each of the four special
// bytes and adds them up as it goes (SSE2, which every amd64 processor
// has): several times as fast as searching for each special byte with
// bytes.IndexByte, and no pass of its own for the checksum.
//
//go:noescape
func escapeMasks(p []byte, masks []uint64) (sum byte)
