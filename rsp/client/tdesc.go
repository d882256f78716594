package client

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Target descriptions, per the manual's "Target Descriptions" appendix: an
// XML document, target.xml, read with qXfer:features:read, that lists the
// registers in features and may include other documents (xi:include) that
// are read the same way. A register's number (regnum) is the previous
// register's plus one unless given, starting at 0; the g packet holds the
// registers in the order of their numbers, each taking its size, unless
// the stub gives byte offsets (lldb-server's offset attribute).

// Register describes one register of a target description.
type Register struct {
	Name    string // "rip", "eflags", "ymm0h", ...
	Number  int    // the stub's number for it, as p and P use it
	Size    int    // in bytes
	Offset  int    // where it starts in the g packet
	Type    string // "int64", "code_ptr", "i387_ext", "vec128", ...
	Group   string // "general", "float", "vector", ... when given
	Feature string // the feature that lists it, "org.gnu.gdb.i386.core"
	// Generic is lldb-server's name for the register's role: "pc",
	// "sp", "fp", "flags", "arg1", ...
	Generic string
}

// Description is a target description: the architecture and the
// registers, in the order of the g packet.
type Description struct {
	Architecture string // "i386:x86-64", or lldb-server's "x86_64"
	Registers    []Register
	byName       map[string]int
}

// Register returns the register called name. "pc" also finds the program
// counter of a description that has no register of that name (rip on
// x86-64).
func (d *Description) Register(name string) (Register, bool) {
	if i, ok := d.byName[name]; ok {
		return d.Registers[i], true
	}
	if name == "pc" {
		for _, r := range d.Registers {
			if r.Generic == "pc" || r.Type == "code_ptr" {
				return r, true
			}
		}
	}
	return Register{}, false
}

// Limits on a description, against a stub that sends nonsense.
const (
	maxIncludes = 32   // documents included, all levels together
	maxRegSize  = 1024 // bytes in one register (AVX-512 has 64)
)

// parseDescription decodes target description doc, reading the documents
// it includes with fetch.
func parseDescription(doc []byte, fetch func(name string) ([]byte, error)) (*Description, error) {
	p := &tdescParser{fetch: fetch, next: 0}
	if err := p.parse(doc, "target.xml"); err != nil {
		return nil, err
	}
	d := &Description{Architecture: p.arch, Registers: p.regs, byName: make(map[string]int)}
	if !p.offsets {
		// The g packet follows the numbers.
		slices.SortStableFunc(d.Registers, func(a, b Register) int { return cmp.Compare(a.Number, b.Number) })
		off := 0
		for i := range d.Registers {
			d.Registers[i].Offset = off
			off += d.Registers[i].Size
		}
	} else {
		slices.SortStableFunc(d.Registers, func(a, b Register) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	for i, r := range d.Registers {
		if _, dup := d.byName[r.Name]; dup {
			return nil, fmt.Errorf("target description: register %q twice", r.Name)
		}
		d.byName[r.Name] = i
	}
	return d, nil
}

// tdescParser walks a description and the documents it includes.
type tdescParser struct {
	fetch    func(name string) ([]byte, error)
	arch     string
	regs     []Register
	next     int  // the number of a register without regnum
	offsets  bool // registers have offset attributes
	included int
}

func (p *tdescParser) parse(doc []byte, name string) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	// Descriptions are ASCII; accept a declared charset without
	// converting it rather than refusing the document.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	feature := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("target description %s: %w", name, err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "architecture":
			var arch string
			if err := d.DecodeElement(&arch, &start); err != nil {
				return fmt.Errorf("target description %s: %w", name, err)
			}
			p.arch = arch
		case "feature":
			feature = attr(start, "name")
		case "include":
			if err := p.include(attr(start, "href")); err != nil {
				return fmt.Errorf("target description %s: %w", name, err)
			}
		case "reg":
			if err := p.reg(start, feature); err != nil {
				return fmt.Errorf("target description %s: %w", name, err)
			}
		}
	}
}

// include reads and parses an included document.
func (p *tdescParser) include(href string) error {
	if href == "" {
		return errors.New("xi:include without href")
	}
	if p.included++; p.included > maxIncludes {
		return fmt.Errorf("more than %d included documents", maxIncludes)
	}
	doc, err := p.fetch(href)
	if err != nil {
		return fmt.Errorf("include %s: %w", href, err)
	}
	return p.parse(doc, href)
}

// reg records a reg element.
func (p *tdescParser) reg(e xml.StartElement, feature string) error {
	r := Register{
		Name:    attr(e, "name"),
		Type:    attr(e, "type"),
		Group:   attr(e, "group"),
		Feature: feature,
		Generic: attr(e, "generic"),
		Number:  p.next,
	}
	if r.Name == "" {
		return errors.New("reg without a name")
	}
	bits, err := strconv.Atoi(attr(e, "bitsize"))
	if err != nil || bits <= 0 || bits%8 != 0 || bits/8 > maxRegSize {
		return fmt.Errorf("reg %s: bitsize %q", r.Name, attr(e, "bitsize"))
	}
	r.Size = bits / 8
	if v := attr(e, "regnum"); v != "" {
		if r.Number, err = strconv.Atoi(v); err != nil || r.Number < 0 || r.Number > 1<<16 {
			return fmt.Errorf("reg %s: regnum %q", r.Name, v)
		}
	}
	if v := attr(e, "offset"); v != "" {
		if r.Offset, err = strconv.Atoi(v); err != nil || r.Offset < 0 || r.Offset > 1<<20 {
			return fmt.Errorf("reg %s: offset %q", r.Name, v)
		}
		p.offsets = true
	}
	p.next = r.Number + 1
	p.regs = append(p.regs, r)
	return nil
}

// attr returns the value of e's attribute name, or "".
func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
