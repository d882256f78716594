package rsp

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Memory packets, per the manual's "Packets" section: "m addr,length"
// reads in hex, "M addr,length:XX..." writes hex, "X addr,length:XX..."
// writes binary data and "x addr,length" reads binary data.
//
// The binary read has two dialects. gdb's (since gdb 16, used only when
// the stub advertises binary-upload+) starts the reply with 'b', so that
// an empty read ("b") differs from the empty reply of an unsupported
// packet. lldb's has no prefix and answers the probe "x0,0" with OK.
// procgdb advertises binary-upload+ to everyone and answers in gdb's
// dialect when the client's qSupported offered binary-upload+ or any of
// the features only gdb offers (qRelocInsn+, vContSupported+, swbreak+;
// gdb has sent the first since 7.2, lldb sends none of them), else in
// lldb's: lldb sends x only after its probe, and gdb sends x only after
// a qSupported that names it gdb. See readMemoryBinary and dialect.go.
//
// lldb adds qMemoryRegionInfo:ADDR, which describes the mapping that
// holds ADDR (a target that is an Inspector knows them), and _M and _m,
// which allocate and free memory in the process for the expressions lldb
// evaluates (a target that is an Allocator makes the process call mmap and
// munmap).

// memoryPackets are the dispatch-table rows of the memory packets, gdb's
// and lldb's.
func memoryPackets() []entry {
	return []entry{
		{prefix: "m", handle: (*Session).readMemory},
		{prefix: "x", feature: "binary-upload+", handle: (*Session).readMemoryBinary},
		{prefix: "M", handle: (*Session).writeMemory},
		{prefix: "X", handle: (*Session).writeMemoryBinary},
		{prefix: "qMemoryRegionInfo", enabled: isInspector, handle: (*Session).memoryRegionInfo},
		{prefix: "_M", anyArgs: true, enabled: isAllocator, handle: (*Session).allocateMemory},
		{prefix: "_m", anyArgs: true, enabled: isAllocator, handle: (*Session).deallocateMemory},
	}
}

// memRead is an m or x request.
type memRead struct {
	addr   uint64
	length uint64
}

// memWrite is an M or X request.
type memWrite struct {
	addr uint64
	data []byte
}

// parseMemRead decodes "addr,length".
func parseMemRead(b []byte) (memRead, error) {
	a, l, ok := bytes.Cut(b, []byte(","))
	if !ok {
		return memRead{}, fmt.Errorf("%q: missing ',length': %w", b, errMalformed)
	}
	addr, err := parseHexUint(a)
	if err != nil {
		return memRead{}, fmt.Errorf("address %q: %w", a, err)
	}
	length, err := parseHexUint(l)
	if err != nil {
		return memRead{}, fmt.Errorf("length %q: %w", l, err)
	}
	return memRead{addr: addr, length: length}, nil
}

// appendMemRead encodes r as parseMemRead decodes it.
func appendMemRead(dst []byte, r memRead) []byte {
	dst = append(appendHexUint(dst, r.addr), ',')
	return appendHexUint(dst, r.length)
}

// parseMemWrite decodes M's "addr,length:XX...".
func parseMemWrite(b []byte) (memWrite, error) { return parseMemWriteInto(nil, b) }

// parseMemWriteInto is parseMemWrite decoding the data into buf, reused
// from packet to packet.
func parseMemWriteInto(buf []byte, b []byte) (memWrite, error) {
	r, data, err := parseWriteHeader(b)
	if err != nil {
		return memWrite{}, err
	}
	if uint64(len(data)) != 2*r.length {
		return memWrite{}, fmt.Errorf("data: %d hex digits for length %#x: %w", len(data), r.length, errMalformed)
	}
	buf, err = decodeHex(buf[:0], data)
	if err != nil {
		return memWrite{}, fmt.Errorf("data: %w", err)
	}
	return memWrite{addr: r.addr, data: buf}, nil
}

// parseBinaryWrite decodes X's "addr,length:data", whose data the framing
// has already unescaped. The data aliases b.
func parseBinaryWrite(b []byte) (memWrite, error) {
	r, data, err := parseWriteHeader(b)
	if err != nil {
		return memWrite{}, err
	}
	if uint64(len(data)) != r.length {
		return memWrite{}, fmt.Errorf("data: %d bytes for length %#x: %w", len(data), r.length, errMalformed)
	}
	return memWrite{addr: r.addr, data: data}, nil
}

// parseWriteHeader splits "addr,length:data" at the first ':' (binary data
// may contain more).
func parseWriteHeader(b []byte) (memRead, []byte, error) {
	head, data, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return memRead{}, nil, fmt.Errorf("%q: missing ':data': %w", b, errMalformed)
	}
	r, err := parseMemRead(head)
	return r, data, err
}

// Read limits: a reply carries at most this many bytes of memory. A hex
// reply stays within PacketSize. A binary one carries as many bytes as
// PacketSize, the most a client asks for at once (gdb 16 asks for exactly
// that many), so that a read of any size the client may ask for comes
// back whole: the 'b' and the escapes make it longer on the wire than
// PacketSize, which bounds only what the stub accepts, and clients read
// replies of any length (gdb grows its buffer; Client takes 4 MiB).
const (
	maxHexRead    = packetSize / 2
	maxBinaryRead = packetSize
)

// readMemory answers m: as many bytes as can be read, up to what fits in a
// packet, in hex. A read that starts at an unreadable address is an error.
func (s *Session) readMemory(args []byte) reply {
	r, err := parseMemRead(args)
	if err != nil {
		return errorReply(err)
	}
	return s.readReply(r, maxHexRead, "", true)
}

// readMemoryBinary answers x in the client's dialect: gdb's ('b' and the
// bytes read) when it offered binary-upload+ or is gdb by its other
// features, else lldb's (the bytes alone, and OK to the probe x0,0).
func (s *Session) readMemoryBinary(args []byte) reply {
	r, err := parseMemRead(args)
	if err != nil {
		return errorReply(err)
	}
	prefix, probe := s.dialect.binaryRead(r.length)
	if probe {
		return okReply
	}
	return s.readReply(r, maxBinaryRead, prefix, false)
}

// readReply reads up to limit bytes of r into the buffer the reply is sent
// from and encodes them where they lie: the reply is framed as
//
//	'$' prefix payload '#' checksum
//
// For hex, the target reads into the second half of the payload's room,
// which the encoder then fills from the front; for binary, it reads where
// the payload goes, and the few bytes that need escaping (1 in 64 of
// random data) are escaped in place from the back (see encode.go). A read
// that runs into unreadable memory returns the part that was read.
func (s *Session) readReply(r memRead, limit uint64, prefix string, hex bool) reply {
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	n := int(min(r.length, limit))
	dst := 1 + len(prefix)
	src, room := dst+n, 2*n
	if !hex {
		src, room = dst, n+n/32
	}
	pkt := slices.Grow(s.out[:0], dst+room+3)[:dst+room]
	s.out = nil // the reply owns the buffer until it is sent
	pkt[0] = '$'
	copy(pkt[1:], prefix)
	got := 0
	if n > 0 {
		if got, err = s.readSome(pid, r.addr, pkt[src:src+n]); err != nil {
			s.out = pkt
			return errorReply(err)
		}
	}
	if hex {
		sum := checksum(pkt[1:dst]) + hexInPlace(pkt, dst, src, got)
		n := 2 * got
		if s.dialect.rle && n <= maxRunsReply {
			var delta byte
			n, delta = compressRuns(pkt[dst : dst+n])
			sum += delta
		}
		return framedReply(endFrame(pkt[:dst+n], sum))
	}
	var (
		sum byte
		ok  bool
	)
	s.esc, sum, ok = escapes(s.esc[:0], pkt[dst:dst+got], room-n)
	if !ok {
		// More bytes to escape than room, in data full of '$#}*': escape
		// into a buffer of the worst case, and drop the long index.
		s.esc = nil
		out := make([]byte, dst+2*got, dst+2*got+3)
		copy(out, pkt[:dst])
		copy(out[dst+got:], pkt[dst:dst+got])
		s.out = pkt
		end, sum := escapeInPlace(out, dst, dst+got, got)
		return framedReply(endFrame(out[:end], checksum(out[1:dst])+sum))
	}
	pkt = pkt[:dst+got+len(s.esc)]
	escapeBackward(pkt[dst:], got, s.esc)
	return framedReply(endFrame(pkt, checksum(pkt[1:dst])+sum))
}

// maxRunsReply is the longest hex memory reply that is run-length
// encoded. Longer ones are bulk transfers, which gdb reads in many pieces
// anyway: there the scan for runs would cost a quarter more CPU per
// megabyte for what random data never gains.
const maxRunsReply = 64 << 10

// endFrame appends '#' and the checksum to a packet built from '$' on.
func endFrame(pkt []byte, sum byte) []byte {
	return append(pkt, '#', hexDigits[sum>>4], hexDigits[sum&0xf])
}

// read reads up to limit bytes of r into s.mem and returns what was read:
// a prefix of the range when it runs into unreadable memory.
func (s *Session) read(r memRead, limit uint64) ([]byte, error) {
	pid, err := s.currentProcess()
	if err != nil {
		return nil, err
	}
	n := int(min(r.length, limit))
	s.mem = slices.Grow(s.mem[:0], n)[:n]
	if n == 0 {
		return s.mem, nil
	}
	got, err := s.readSome(pid, r.addr, s.mem)
	if err != nil {
		return nil, err
	}
	return s.mem[:got], nil
}

// readSome reads into dst (not empty) at addr: a prefix of it where the
// range runs into unreadable memory, which reports its failure by its
// length alone; an error only when nothing could be read.
func (s *Session) readSome(pid int, addr uint64, dst []byte) (int, error) {
	got, err := s.t.ReadMemory(pid, addr, dst)
	if got == 0 {
		if err == nil {
			err = errMemory
		}
		return 0, fmt.Errorf("read %#x+%d: %w", addr, len(dst), err)
	}
	return got, nil
}

// writeMemory answers M.
func (s *Session) writeMemory(args []byte) reply {
	w, err := parseMemWriteInto(s.mem, args)
	if err != nil {
		return errorReply(err)
	}
	s.mem = w.data
	return s.write(w)
}

// writeMemoryBinary answers X. gdb probes for X support with a write of
// zero bytes, which succeeds.
func (s *Session) writeMemoryBinary(args []byte) reply {
	w, err := parseBinaryWrite(args)
	if err != nil {
		return errorReply(err)
	}
	return s.write(w)
}

// write writes all of w or fails.
func (s *Session) write(w memWrite) reply {
	if len(w.data) == 0 {
		return okReply
	}
	pid, err := s.currentProcess()
	if err != nil {
		return errorReply(err)
	}
	n, err := s.t.WriteMemory(pid, w.addr, w.data)
	if err == nil && n < len(w.data) {
		err = errMemory
	}
	if err != nil {
		return errorReply(fmt.Errorf("write %#x+%d (wrote %d): %w", w.addr, len(w.data), n, err))
	}
	return okReply
}

// MemoryRegion is one mapping of a process's address space,
// [Start, End), as /proc/PID/maps shows it. Name is the mapped file's
// path, a pseudo-name such as "[stack]", or empty.
type MemoryRegion struct {
	Start, End        uint64
	Read, Write, Exec bool
	Name              string
}

// parseRegionAddr decodes qMemoryRegionInfo's ":ADDR".
func parseRegionAddr(b []byte) (uint64, error) {
	if len(b) == 0 || b[0] != ':' {
		return 0, fmt.Errorf("%q: want ':address': %w", b, errMalformed)
	}
	return parseHexUint(bytes.TrimPrefix(b[1:], []byte("0x")))
}

// regionAt returns the region containing addr, or the gap around it (a
// region with no permissions) when addr is unmapped.
func regionAt(rs []MemoryRegion, addr uint64) MemoryRegion {
	var gapStart uint64
	for _, r := range rs {
		if addr < r.Start {
			return MemoryRegion{Start: gapStart, End: r.Start}
		}
		if addr < r.End {
			return r
		}
		gapStart = r.End
	}
	return MemoryRegion{Start: gapStart, End: 0} // up to the end of the address space
}

// appendRegion appends the qMemoryRegionInfo reply for r.
func appendRegion(dst []byte, r MemoryRegion) []byte {
	dst = kvUint(dst, "start", r.Start)
	dst = kvUint(dst, "size", r.End-r.Start)
	if r.Read || r.Write || r.Exec {
		perms := ""
		if r.Read {
			perms += "r"
		}
		if r.Write {
			perms += "w"
		}
		if r.Exec {
			perms += "x"
		}
		dst = kv(dst, "permissions", perms)
	}
	if r.Name != "" {
		dst = kvHex(dst, "name", r.Name)
	}
	return dst
}

// memoryRegions returns the mappings of the current process.
func (s *Session) memoryRegions() ([]MemoryRegion, error) {
	pid, err := s.currentProcess()
	if err != nil {
		return nil, err
	}
	return s.t.(Inspector).MemoryRegions(pid)
}

// memoryRegionInfo answers qMemoryRegionInfo:ADDR with the mapping that
// holds ADDR, or the unmapped gap around it.
func (s *Session) memoryRegionInfo(args []byte) reply {
	addr, err := parseRegionAddr(args)
	if err != nil {
		return errorReply(err)
	}
	rs, err := s.memoryRegions()
	if err != nil {
		return errorReply(err)
	}
	s.buf = appendRegion(s.buf[:0], regionAt(rs, addr))
	return dataReply(s.buf)
}

// Allocator is implemented by targets that can map and unmap memory in a
// process by making the process itself call mmap and munmap in stopped
// thread t, leaving the thread's registers and code as they were.
type Allocator interface {
	// AllocateMemory maps size bytes of anonymous memory with
	// protection prot (unix.PROT_*) and returns its address.
	AllocateMemory(t inferior.ThreadID, size uint64, prot int) (uint64, error)
	// FreeMemory unmaps what AllocateMemory mapped at addr.
	FreeMemory(t inferior.ThreadID, addr, size uint64) error
}

func isAllocator(s *Session) bool { _, ok := s.t.(Allocator); return ok }

// memAlloc is an _M request.
type memAlloc struct {
	size uint64
	prot int
}

// parseMemAlloc decodes _M's "SIZE,PERMISSIONS", the permissions a
// string of r, w and x.
func parseMemAlloc(b []byte) (memAlloc, error) {
	sz, perms, ok := bytes.Cut(b, []byte(","))
	if !ok {
		return memAlloc{}, fmt.Errorf("%q: want size,permissions: %w", b, errMalformed)
	}
	size, err := parseHexUint(sz)
	if err != nil {
		return memAlloc{}, fmt.Errorf("size %q: %w", sz, err)
	}
	if size == 0 || size > 1<<40 {
		return memAlloc{}, fmt.Errorf("size %#x: %w", size, errMalformed)
	}
	prot := 0
	for _, c := range perms {
		switch c {
		case 'r':
			prot |= unix.PROT_READ
		case 'w':
			prot |= unix.PROT_WRITE
		case 'x':
			prot |= unix.PROT_EXEC
		default:
			return memAlloc{}, fmt.Errorf("permissions %q: %w", perms, errMalformed)
		}
	}
	return memAlloc{size: size, prot: prot}, nil
}

// allocateMemory answers _MSIZE,PERMS with the address of new memory,
// mapped by the current thread.
func (s *Session) allocateMemory(args []byte) reply {
	req, err := parseMemAlloc(args)
	if err != nil {
		return errorReply(err)
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	addr, err := s.t.(Allocator).AllocateMemory(t, req.size, req.prot)
	if err != nil {
		return errorReply(err)
	}
	if s.allocs == nil {
		s.allocs = map[uint64]uint64{}
	}
	s.allocs[addr] = req.size
	s.buf = appendHexUint(s.buf[:0], addr)
	return dataReply(s.buf)
}

// deallocateMemory answers _mADDR, unmapping what _M returned at ADDR.
func (s *Session) deallocateMemory(args []byte) reply {
	addr, err := parseHexUint(args)
	if err != nil {
		return errorReply(fmt.Errorf("address %q: %w", args, err))
	}
	size, ok := s.allocs[addr]
	if !ok {
		return errorReply(fmt.Errorf("%#x was not allocated with _M: %w", addr, errBadAnnex))
	}
	t, err := s.currentThread()
	if err != nil {
		return errorReply(err)
	}
	if err := s.t.(Allocator).FreeMemory(t, addr, size); err != nil {
		return errorReply(err)
	}
	delete(s.allocs, addr)
	return okReply
}
