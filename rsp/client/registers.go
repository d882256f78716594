package client

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// RegisterValue is the raw value of a register, in the target's byte
// order (little-endian on x86-64), as many bytes as the register has.
type RegisterValue []byte

// Uint64 returns the value as a little-endian number: the register's
// first 8 bytes, zero-extended when it has fewer.
func (v RegisterValue) Uint64() uint64 {
	var b [8]byte
	copy(b[:], v)
	return binary.LittleEndian.Uint64(b[:])
}

// Uint64Value returns x as an 8-byte little-endian RegisterValue, for
// WriteRegister.
func Uint64Value(x uint64) RegisterValue {
	return binary.LittleEndian.AppendUint64(nil, x)
}

// fit returns v as a value of exactly size bytes: zero-extended, or cut
// if the bytes beyond size are zero.
func (v RegisterValue) fit(size int) (RegisterValue, error) {
	if len(v) <= size {
		return append(v[:len(v):len(v)], make([]byte, size-len(v))...), nil
	}
	for _, b := range v[size:] {
		if b != 0 {
			return nil, fmt.Errorf("value of %d bytes does not fit in %d", len(v), size)
		}
	}
	return v[:size], nil
}

// Description returns the target description, read from the stub once
// (qXfer:features:read:target.xml and what it includes).
func (c *Client) Description() (*Description, error) {
	if c.desc != nil {
		return c.desc, nil
	}
	if !c.Supports("qXfer:features:read") {
		return nil, fmt.Errorf("client: target description: qXfer:features:read: %w", ErrUnsupported)
	}
	fetch := func(name string) ([]byte, error) { return c.xfer("features", name) }
	doc, err := fetch("target.xml")
	if err != nil {
		return nil, fmt.Errorf("client: target description: %w", err)
	}
	d, err := parseDescription(doc, fetch)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c.desc = d
	return d, nil
}

// register returns the description of register name.
func (c *Client) register(name string) (Register, error) {
	d, err := c.Description()
	if err != nil {
		return Register{}, err
	}
	r, ok := d.Register(name)
	if !ok {
		return Register{}, fmt.Errorf("client: no register %q in the target description", name)
	}
	return r, nil
}

// Select makes th the stub's general thread (Hg), whose process memory,
// breakpoint and file requests apply to. After a stop the thread that
// stopped is selected.
func (c *Client) Select(th ThreadID) error {
	if c.selKnown && c.sel == th {
		return nil
	}
	if err := c.requestOK("Hg" + c.threadString(th)); err != nil {
		return fmt.Errorf("client: select thread %s: %w", c.threadString(th), err)
	}
	c.sel, c.selKnown = th, true
	return nil
}

// ReadRegister reads register name of thread th (p, or g where the stub
// has no p).
func (c *Client) ReadRegister(th ThreadID, name string) (RegisterValue, error) {
	r, err := c.register(name)
	if err != nil {
		return nil, err
	}
	if err := c.Select(th); err != nil {
		return nil, err
	}
	reply, err := c.request(fmt.Sprintf("p%x", r.Number))
	if errors.Is(err, ErrUnsupported) {
		all, err := c.ReadRegisters(th)
		if err != nil {
			return nil, err
		}
		if v, ok := all.Get(name); ok {
			return v, nil
		}
		return nil, fmt.Errorf("client: register %s: not in the g packet", name)
	}
	if err != nil {
		return nil, fmt.Errorf("client: read register %s: %w", name, err)
	}
	v, err := decodeRegister(reply, r.Size)
	if err != nil {
		return nil, fmt.Errorf("client: read register %s: %w", name, err)
	}
	return v, nil
}

// decodeRegister decodes the hex of a p reply, which must be size bytes.
func decodeRegister(reply string, size int) (RegisterValue, error) {
	if strings.Contains(reply, "x") {
		return nil, errors.New("the stub says the value is unavailable")
	}
	v, err := hex.DecodeString(reply)
	if err != nil {
		return nil, fmt.Errorf("reply %.40q: %w", reply, err)
	}
	if len(v) != size {
		return nil, fmt.Errorf("reply of %d bytes, want %d", len(v), size)
	}
	return v, nil
}

// WriteRegister writes v to register name of thread th (P, or g and G
// where the stub has no P). v is zero-extended to the register's size, or
// cut to it if the bytes beyond are zero.
func (c *Client) WriteRegister(th ThreadID, name string, v RegisterValue) error {
	r, err := c.register(name)
	if err != nil {
		return err
	}
	if v, err = v.fit(r.Size); err != nil {
		return fmt.Errorf("client: write register %s: %w", name, err)
	}
	if err := c.Select(th); err != nil {
		return err
	}
	err = c.requestOK(fmt.Sprintf("P%x=%x", r.Number, []byte(v)))
	if errors.Is(err, ErrUnsupported) {
		all, err := c.ReadRegisters(th)
		if err != nil {
			return err
		}
		if err := all.Set(name, v); err != nil {
			return err
		}
		return c.WriteRegisters(th, all)
	}
	if err != nil {
		return fmt.Errorf("client: write register %s: %w", name, err)
	}
	return nil
}

// PC returns the program counter of thread th.
func (c *Client) PC(th ThreadID) (uint64, error) {
	v, err := c.ReadRegister(th, "pc")
	return v.Uint64(), err
}

// Registers are the values of all registers of a thread that the g packet
// holds, as ReadRegisters returns them.
type Registers struct {
	desc *Description
	raw  []byte
}

// Get returns the value of register name; ok is false if the g packet
// does not hold it. The value shares the Registers' memory.
func (r *Registers) Get(name string) (v RegisterValue, ok bool) {
	reg, ok := r.desc.Register(name)
	if !ok || reg.Offset+reg.Size > len(r.raw) {
		return nil, false
	}
	return RegisterValue(r.raw[reg.Offset : reg.Offset+reg.Size]), true
}

// Set changes the value of register name, for WriteRegisters; v is
// fitted to the register's size as WriteRegister does.
func (r *Registers) Set(name string, v RegisterValue) error {
	reg, ok := r.desc.Register(name)
	if !ok || reg.Offset+reg.Size > len(r.raw) {
		return fmt.Errorf("client: register %s: not in the g packet", name)
	}
	v, err := v.fit(reg.Size)
	if err != nil {
		return fmt.Errorf("client: register %s: %w", name, err)
	}
	copy(r.raw[reg.Offset:], v)
	return nil
}

// ReadRegisters reads all registers of thread th that the g packet holds.
func (c *Client) ReadRegisters(th ThreadID) (*Registers, error) {
	d, err := c.Description()
	if err != nil {
		return nil, err
	}
	if err := c.Select(th); err != nil {
		return nil, err
	}
	reply, err := c.request("g")
	if err != nil {
		return nil, fmt.Errorf("client: read registers: %w", err)
	}
	if strings.Contains(reply, "x") {
		// Unavailable registers read as zero rather than failing all.
		reply = strings.ReplaceAll(reply, "x", "0")
	}
	raw, err := hex.DecodeString(reply)
	if err != nil {
		return nil, fmt.Errorf("client: read registers: reply %.40q: %w", reply, err)
	}
	return &Registers{desc: d, raw: raw}, nil
}

// WriteRegisters writes all registers in r to thread th (G).
func (c *Client) WriteRegisters(th ThreadID, r *Registers) error {
	if err := c.Select(th); err != nil {
		return err
	}
	if err := c.requestOK(fmt.Sprintf("G%x", r.raw)); err != nil {
		return fmt.Errorf("client: write registers: %w", err)
	}
	return nil
}
