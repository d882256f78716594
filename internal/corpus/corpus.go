// Package corpus reads the hostile-packet corpus (rsp/testdata/
// hostile-packets.txt): malformed and edge-case input that a stub must
// refuse without harm. The rsp tests replay it against a fake target and
// seed a fuzz target with it; the end-to-end tests replay it against a
// running procgdb.
//
// The file has one entry per line. Blank lines and lines starting with '#'
// are comments. Bytes are written with Go's string escapes (\x03, \n, \",
// \\), as inside a double-quoted Go string:
//
//	PAYLOAD          a packet, sent with a good checksum
//	!empty           the empty packet, "$#00"
//	!long N PREFIX   a packet of PREFIX followed by N bytes 'a' (decimal N)
//	!nak BYTES       raw bytes: a packet the stub must answer with '-'
//	!raw BYTES       raw bytes that get no reply of their own
package corpus

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Kind says how an entry is sent and what it must get.
type Kind int

const (
	// Packet is a payload, framed with a good checksum: the stub answers
	// it with the empty reply or an error reply.
	Packet Kind = iota
	// Nak is raw bytes forming a packet the stub refuses with '-'.
	Nak
	// Raw is raw bytes that get no reply of their own.
	Raw
)

// Entry is one line of the corpus.
type Entry struct {
	Line int
	Kind Kind
	Data []byte
}

// Parse reads the corpus file at path.
func Parse(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		e.Line = n
		out = append(out, e)
	}
	return out, sc.Err()
}

func parseLine(line string) (Entry, error) {
	switch {
	case line == "!empty":
		return Entry{Kind: Packet, Data: []byte{}}, nil
	case strings.HasPrefix(line, "!long "):
		count, prefix, _ := strings.Cut(strings.TrimPrefix(line, "!long "), " ")
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 || n > 64<<20 {
			return Entry{}, fmt.Errorf("bad length %q", count)
		}
		p, err := unquote(prefix)
		if err != nil {
			return Entry{}, err
		}
		return Entry{Kind: Packet, Data: append(p, bytes.Repeat([]byte("a"), n)...)}, nil
	case strings.HasPrefix(line, "!nak "):
		b, err := unquote(strings.TrimPrefix(line, "!nak "))
		return Entry{Kind: Nak, Data: b}, err
	case strings.HasPrefix(line, "!raw "):
		b, err := unquote(strings.TrimPrefix(line, "!raw "))
		return Entry{Kind: Raw, Data: b}, err
	case strings.HasPrefix(line, "!"):
		// A packet that starts with '!' is written with an escape: \x21.
		return Entry{}, fmt.Errorf("unknown directive %q", line)
	}
	b, err := unquote(line)
	return Entry{Kind: Packet, Data: b}, err
}

func unquote(s string) ([]byte, error) {
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		return nil, fmt.Errorf("bad escapes in %q: %w", s, err)
	}
	return []byte(u), nil
}
