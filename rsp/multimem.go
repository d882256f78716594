package rsp

import (
	"bytes"
	"fmt"
	"slices"

	"procgdb/inferior"
)

// lldb's MultiMemRead (lldbgdbremote.md): several ranges in one request,
//
//	MultiMemRead:ranges:ADDR,LEN[,ADDR,LEN]*;[options:...;]
//
// numbers in hex, answered with how many bytes were read from each range,
// in hex, comma-separated, then ';' and the bytes of all ranges, in order,
// escaped as binary data. A range may be read in part (a readable prefix)
// or not at all (0). procgdb reads all ranges with one RangeReader call,
// which the target serves with one process_vm_readv.

// multiMemPackets is MultiMemRead's dispatch-table row.
func multiMemPackets() []entry {
	return []entry{
		{prefix: "MultiMemRead:", feature: "MultiMemRead+", handle: (*Session).multiMemRead},
	}
}

// maxMultiMemRead bounds the bytes of one MultiMemRead reply; ranges past
// it are read in part or not at all, as the packet allows.
const maxMultiMemRead = packetSize - 1

// parseMultiMemRead decodes what follows "MultiMemRead:".
func parseMultiMemRead(b []byte) ([]inferior.Range, error) {
	rest, ok := bytes.CutPrefix(b, []byte("ranges:"))
	if !ok {
		return nil, fmt.Errorf("%.40q: want ranges:: %w", b, errMalformed)
	}
	list, rest, ok := bytes.Cut(rest, []byte(";"))
	if !ok {
		return nil, fmt.Errorf("ranges: missing ';': %w", errMalformed)
	}
	// Options may follow; none is defined yet, so they are ignored.
	if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("options:")) {
		return nil, fmt.Errorf("%.40q after the ranges: %w", rest, errMalformed)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no ranges: %w", errMalformed)
	}
	fields := bytes.Split(list, []byte(","))
	if len(fields)%2 != 0 {
		return nil, fmt.Errorf("ranges: odd number of fields: %w", errMalformed)
	}
	ranges := make([]inferior.Range, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		addr, err := parseHexUint(fields[i])
		if err != nil {
			return nil, fmt.Errorf("range %d address %q: %w", i/2, fields[i], err)
		}
		n, err := parseHexInt(fields[i+1])
		if err != nil {
			return nil, fmt.Errorf("range %d length %q: %w", i/2, fields[i+1], err)
		}
		ranges = append(ranges, inferior.Range{Addr: addr, Len: n})
	}
	return ranges, nil
}

// appendMultiMemRead encodes ranges as parseMultiMemRead decodes them.
func appendMultiMemRead(dst []byte, ranges []inferior.Range) []byte {
	dst = append(dst, "ranges:"...)
	for i, r := range ranges {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendHexUint(dst, r.Addr), ',')
		dst = appendHexUint(dst, uint64(r.Len))
	}
	return append(dst, ';')
}

// multiMemRead answers MultiMemRead. Ranges are clipped to what fits in
// one reply; the reply is built framed, as m and x replies are.
func (s *Session) multiMemRead(args []byte) reply {
	ranges, err := parseMultiMemRead(args)
	if err != nil {
		return errorReply(err)
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	budget, total, header := maxMultiMemRead, 0, 0
	for i := range ranges {
		ranges[i].Len = min(ranges[i].Len, budget)
		budget -= ranges[i].Len
		total += ranges[i].Len
		var digits [16]byte
		header += len(appendHexUint(digits[:0], uint64(ranges[i].Len))) + 1
	}
	// Layout: '$', the counts (at most header bytes), the escaped data
	// (at most 2*total); the target reads at src, behind both.
	src := 1 + header + total
	pkt := slices.Grow(s.out[:0], src+total+3)[:src+total]
	s.out = nil
	counts, err := s.readRanges(pid, ranges, pkt[src:])
	if err != nil {
		s.out = pkt
		return errorReply(err)
	}
	pkt = pkt[:1]
	pkt[0] = '$'
	for i, n := range counts {
		if i > 0 {
			pkt = append(pkt, ',')
		}
		pkt = appendHexUint(pkt, uint64(n))
	}
	pkt = append(pkt, ';')
	sum := checksum(pkt[1:])
	end, off := len(pkt), src
	pkt = pkt[:cap(pkt)]
	for i, n := range counts {
		var esum byte
		end, esum = escapeInPlace(pkt, end, off, n)
		sum += esum
		off += ranges[i].Len
	}
	return framedReply(endFrame(pkt[:end], sum))
}

// readRanges reads ranges into dst, packed by their lengths, with the
// target's RangeReader when it has one, else range by range.
func (s *Session) readRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error) {
	if rr, ok := s.t.(RangeReader); ok {
		counts, err := rr.ReadRanges(pid, ranges, dst)
		if err != nil {
			return nil, fmt.Errorf("read %d ranges: %w", len(ranges), err)
		}
		return counts, nil
	}
	counts := make([]int, len(ranges))
	off := 0
	for i, r := range ranges {
		if r.Len > 0 {
			counts[i], _ = s.t.ReadMemory(pid, r.Addr, dst[off:off+r.Len])
		}
		off += r.Len
	}
	return counts, nil
}
