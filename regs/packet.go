package regs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors that callers may want to tell apart.
var (
	// ErrUnknownRegister reports a register number the layout does not
	// have.
	ErrUnknownRegister = errors.New("regs: unknown register")
	// ErrNoXSave reports a register that lives in the XSAVE area while
	// Set.XSave is not loaded, is too short for it, or has no Layout
	// to interpret it.
	ErrNoXSave = errors.New("regs: XSAVE area not loaded")
)

// AppendG appends the raw bytes of the g packet to dst: every register of
// the layout, in register-number order, each in the target's byte order
// (little-endian), as gdb expects. The caller hex-encodes the result.
//
// AppendG stops before the first register it cannot read: with XSave not
// loaded that is st0, so only the general registers are sent. A shorter g
// reply is valid in the protocol (gdb then reads the registers past its
// end with p), but gdb remembers the shorter length and rejects a longer
// reply later in the session, so a stub should load XSave for every g
// (see NeedsXSave) and keep the length constant.
//
// AppendG does not allocate when dst has room for the packet.
func (s *Set) AppendG(dst []byte) []byte {
	for n := range s.Layout.NumRegs() {
		var err error
		if dst, err = s.AppendRegister(dst, n); err != nil {
			break
		}
	}
	return dst
}

// SetG writes the raw bytes of a G packet (hex-decoded by the caller) into
// the set. b may cover only a prefix of the registers, as gdb may send,
// but it must end on a register boundary and not be longer than the
// layout. On error the set is left unchanged.
func (s *Set) SetG(b []byte) error {
	l := s.Layout
	n, end := 0, 0
	for end < len(b) {
		if n == l.NumRegs() {
			return fmt.Errorf("regs: G packet of %d bytes is longer than the %d registers (%d bytes)", len(b), n, end)
		}
		end += l.row(n).bits / 8
		n++
	}
	if end != len(b) {
		return fmt.Errorf("regs: G packet of %d bytes ends inside register %d (%s)", len(b), n-1, l.row(n-1).name)
	}
	// Check every register before writing any, so that a failure leaves
	// the set as it was.
	for i := range n {
		if err := s.writable(l.row(i)); err != nil {
			return err
		}
	}
	off := 0
	for i := range n {
		r := l.row(i)
		size := r.bits / 8
		s.write(r, b[off:off+size])
		off += size
	}
	return nil
}

// AppendRegister appends the raw bytes of register n (the p packet's
// reply, before hex encoding) to dst. It fails, returning dst unchanged,
// when the layout has no register n or when n lives in the XSAVE area and
// XSave is not loaded. A state component that XSTATE_BV marks as in its
// initial configuration reads as that configuration.
func (s *Set) AppendRegister(dst []byte, n int) ([]byte, error) {
	r, err := s.lookup(n)
	if err != nil {
		return dst, err
	}
	switch r.kind {
	case kGPR:
		return binary.LittleEndian.AppendUint64(dst, *r.gpr(&s.GPR)), nil
	case kGPR32:
		return binary.LittleEndian.AppendUint32(dst, uint32(*r.gpr(&s.GPR))), nil
	}
	c := r.kind.component()
	xs, err := s.area(c)
	if err != nil {
		return dst, err
	}
	live := s.live(c)
	switch {
	case r.kind == kXMM:
		if !live {
			return append(dst, make([]byte, xmmSize)...), nil
		}
		return append(dst, xs[r.off:r.off+xmmSize]...), nil
	case r.kind == kMXCSR:
		return append(dst, xs[fxMXCSR:fxMXCSR+4]...), nil
	case r.kind.extended():
		size := r.bits / 8
		if !live {
			return append(dst, make([]byte, size)...), nil
		}
		off := s.Layout.offset[c] + r.off
		return append(dst, xs[off:off+size]...), nil
	}
	if !live {
		var init [x87Size]byte
		initX87(init[:])
		return appendX87(dst, r, init[:]), nil
	}
	return appendX87(dst, r, xs), nil
}

// appendX87 appends x87 register r, read from the legacy region fx.
func appendX87(dst []byte, r *reg, fx []byte) []byte {
	switch r.kind {
	case kST:
		return append(dst, fx[r.off:r.off+stSize]...)
	case kX87Word:
		return binary.LittleEndian.AppendUint32(dst, uint32(binary.LittleEndian.Uint16(fx[r.off:])))
	case kFTW:
		return binary.LittleEndian.AppendUint32(dst, uint32(fullTag(fx)))
	case kFOP:
		return binary.LittleEndian.AppendUint32(dst, uint32(binary.LittleEndian.Uint16(fx[r.off:])&0x7ff))
	}
	return append(dst, fx[r.off:r.off+4]...) // kX87Dword
}

// SetRegister writes register n (the P packet's value, hex-decoded by the
// caller). b must be exactly the register's size. Writing a register in
// the XSAVE area marks its state component in use in XSTATE_BV, first
// filling in the component's initial configuration if it was not in use,
// so that the kernel keeps the write and the component's other registers
// read as before.
func (s *Set) SetRegister(n int, b []byte) error {
	r, err := s.lookup(n)
	if err != nil {
		return err
	}
	if len(b) != r.bits/8 {
		return fmt.Errorf("regs: register %d (%s) is %d bytes, got %d", n, r.name, r.bits/8, len(b))
	}
	if err := s.writable(r); err != nil {
		return err
	}
	s.write(r, b)
	return nil
}

// lookup returns the table row of register n if the layout has it.
func (s *Set) lookup(n int) (*reg, error) {
	r := s.Layout.row(n)
	if r == nil {
		return nil, fmt.Errorf("%w %d", ErrUnknownRegister, n)
	}
	return r, nil
}

// writable reports why r cannot be written, or nil.
func (s *Set) writable(r *reg) error {
	c := r.kind.component()
	if c < 0 {
		return nil
	}
	_, err := s.area(c)
	return err
}

// write stores b, which has r's size, into r. The caller has checked that
// r is writable.
func (s *Set) write(r *reg, b []byte) {
	switch r.kind {
	case kGPR:
		*r.gpr(&s.GPR) = binary.LittleEndian.Uint64(b)
		return
	case kGPR32:
		*r.gpr(&s.GPR) = uint64(binary.LittleEndian.Uint32(b))
		return
	}
	xs := s.XSave
	c := r.kind.component()
	s.makeLive(c)
	if r.kind.extended() {
		off := s.Layout.offset[c] + r.off
		copy(xs[off:off+r.bits/8], b)
		return
	}
	switch r.kind {
	case kST:
		copy(xs[r.off:r.off+stSize], b)
	case kX87Word:
		// The hardware field is 16 bits; gdb sends it zero-extended.
		binary.LittleEndian.PutUint16(xs[r.off:], uint16(binary.LittleEndian.Uint32(b)))
	case kX87Dword, kMXCSR:
		copy(xs[r.off:r.off+4], b)
	case kFTW:
		// Only emptiness survives: FXRSTOR recomputes the rest of the
		// tag from the register contents.
		xs[r.off] = abridgedTag(uint16(binary.LittleEndian.Uint32(b)))
	case kFOP:
		binary.LittleEndian.PutUint16(xs[r.off:], uint16(binary.LittleEndian.Uint32(b))&0x7ff)
	case kXMM:
		copy(xs[r.off:r.off+xmmSize], b)
	}
}

// area returns the XSAVE image if it is long enough to hold component c
// (and, in the XSAVE format, its header), or an error wrapping ErrNoXSave.
func (s *Set) area(c int) ([]byte, error) {
	l := s.Layout
	if l == nil {
		return nil, fmt.Errorf("%w: the set has no layout", ErrNoXSave)
	}
	need := xsaveMin
	if l.FXSaveOnly {
		need = fxSize
	}
	if c > compSSE {
		need = max(need, l.end[c])
	}
	if len(s.XSave) < need {
		return nil, fmt.Errorf("%w: %d bytes, need %d", ErrNoXSave, len(s.XSave), need)
	}
	return s.XSave, nil
}

// live reports whether component c holds state in the image, as opposed
// to being in its initial configuration. An FXSAVE image always holds
// its state. The caller has checked the image with area.
func (s *Set) live(c int) bool {
	return s.Layout.FXSaveOnly || inUse(s.XSave, c)
}

// makeLive marks component c in use, first writing its initial
// configuration if it was not, so that registers not being written keep
// the values they read as. The caller has checked the image with area.
func (s *Set) makeLive(c int) {
	if s.live(c) {
		return
	}
	xs := s.XSave
	switch c {
	case compX87:
		initX87(xs)
	case compSSE:
		initSSE(xs)
	default:
		clear(xs[s.Layout.offset[c]:s.Layout.end[c]])
	}
	markInUse(xs, c)
}
