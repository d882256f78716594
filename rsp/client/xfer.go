package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"procgdb/rsp"
)

// Objects read with qXfer (the manual's "General Query Packets", "Library
// List Format for SVR4 Targets"), and monitor commands (qRcmd).

// Libraries lists the shared objects loaded in the selected thread's
// process, from the dynamic linker's list (qXfer:libraries-svr4).
func (c *Client) Libraries() ([]Library, error) {
	doc, err := c.xfer("libraries-svr4", "")
	if err != nil {
		return nil, fmt.Errorf("client: libraries: %w", err)
	}
	libs, err := parseLibraries(doc)
	if err != nil {
		return nil, fmt.Errorf("client: libraries: %w", err)
	}
	return libs, nil
}

// parseLibraries decodes a library-list-svr4 document.
func parseLibraries(doc []byte) ([]Library, error) {
	var list struct {
		Libraries []struct {
			Name  string `xml:"name,attr"`
			LM    string `xml:"lm,attr"`
			LAddr string `xml:"l_addr,attr"`
			LD    string `xml:"l_ld,attr"`
		} `xml:"library"`
	}
	if err := xml.NewDecoder(bytes.NewReader(doc)).Decode(&list); err != nil {
		return nil, err
	}
	libs := make([]Library, 0, len(list.Libraries))
	for _, l := range list.Libraries {
		lib := Library{Name: l.Name}
		for _, f := range []struct {
			name, s string
			v       *uint64
		}{{"lm", l.LM, &lib.LM}, {"l_addr", l.LAddr, &lib.Addr}, {"l_ld", l.LD, &lib.LD}} {
			v, err := strconv.ParseUint(strings.TrimPrefix(f.s, "0x"), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("library %q: %s %q", l.Name, f.name, f.s)
			}
			*f.v = v
		}
		libs = append(libs, lib)
	}
	return libs, nil
}

// AuxEntry is an entry of the auxiliary vector: a tag (AT_ENTRY, AT_PHDR,
// ... in golang.org/x/sys/unix) and its value.
type AuxEntry struct {
	Tag, Value uint64
}

// Auxv returns the auxiliary vector the kernel gave the selected thread's
// process (qXfer:auxv), up to its AT_NULL.
func (c *Client) Auxv() ([]AuxEntry, error) {
	b, err := c.xfer("auxv", "")
	if err != nil {
		return nil, fmt.Errorf("client: auxv: %w", err)
	}
	return parseAuxv(b), nil
}

// parseAuxv decodes a 64-bit little-endian auxiliary vector.
func parseAuxv(b []byte) []AuxEntry {
	var v []AuxEntry
	for ; len(b) >= 16; b = b[16:] {
		e := AuxEntry{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
		if e.Tag == 0 {
			break
		}
		v = append(v, e)
	}
	return v
}

// atEntry is the auxiliary vector's tag of the program's entry point.
const atEntry = 9

// LoadBias returns how far from its link-time addresses the program of
// the selected thread's process is loaded: AT_ENTRY from the auxiliary
// vector minus entry, the entry point its ELF file gives (debug/elf's
// File.Entry). It is 0 for a program that is not position-independent;
// add it to the addresses of the file's symbols.
func (c *Client) LoadBias(entry uint64) (uint64, error) {
	auxv, err := c.Auxv()
	if err != nil {
		return 0, err
	}
	for _, e := range auxv {
		if e.Tag == atEntry {
			return e.Value - entry, nil
		}
	}
	return 0, errors.New("client: load bias: no AT_ENTRY in the auxiliary vector")
}

// ExecFile returns the path of the program process pid runs
// (qXfer:exec-file), or of the selected thread's process for pid 0.
func (c *Client) ExecFile(pid int) (string, error) {
	annex := ""
	if pid > 0 {
		annex = strconv.FormatInt(int64(pid), 16)
	}
	b, err := c.xfer("exec-file", annex)
	if err != nil {
		return "", fmt.Errorf("client: exec file: %w", err)
	}
	return string(b), nil
}

// Monitor runs a monitor command, a command for the stub itself (gdb's
// "monitor CMD", qRcmd), and returns what it printed. ctx bounds the wait
// for the command's end.
func (c *Client) Monitor(ctx context.Context, cmd string) (string, error) {
	req := "qRcmd," + hex.EncodeToString([]byte(cmd))
	var out strings.Builder
	err := c.withContext(ctx, func() error {
		if err := c.ready("qRcmd"); err != nil {
			return err
		}
		if err := c.raw.Send(req); err != nil {
			c.fail(err)
			return err
		}
		for {
			r, err := c.raw.Receive()
			if err != nil {
				c.fail(err)
				return err
			}
			if r == "OK" {
				return nil
			}
			if err := rsp.CheckReply(req, []byte(r)); err != nil {
				return err
			}
			// O packets carry output and more follows; a reply of
			// hex output alone is the last.
			more := r[0] == 'O'
			if more {
				r = r[1:]
			}
			b, err := hex.DecodeString(r)
			if err != nil {
				return fmt.Errorf("qRcmd: output %.40q: %w", r, err)
			}
			out.Write(b)
			if !more {
				return nil
			}
		}
	})
	if err != nil {
		return out.String(), fmt.Errorf("client: monitor %q: %w", cmd, err)
	}
	return out.String(), nil
}
