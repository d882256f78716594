package rsp

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Monitor commands, per the manual's "General Query Packets": "qRcmd,HEX"
// carries a command for the stub itself, hex-encoded (gdb's `monitor
// CMD`, lldb's `process plugin packet monitor CMD`). Before its reply (OK,
// or an error) the stub may send what the command prints as console
// output: "O" and the text in hex, in as many packets as it likes. Which
// commands there are is not the protocol's business: Config.Monitor runs
// them.

// monitorPackets is qRcmd's dispatch-table row.
func monitorPackets() []entry {
	return []entry{
		{prefix: "qRcmd", enabled: hasMonitor, handle: (*Session).monitor},
	}
}

// MonitorFunc runs one monitor command, as the client typed it with the
// spaces around it trimmed, and writes what it prints to out. The session
// sends that output to the client, then OK, or an error reply when err is
// not nil (gdb prints the output, then "Protocol error with Rcmd"). after,
// when not nil, runs once the reply has been sent: a command that ends the
// server ends it there, when the client has its answer.
type MonitorFunc func(cmd string, out io.Writer) (after func(), err error)

// consoleChunk bounds the text of one O packet: a line or a few, well
// within any client's buffer.
const consoleChunk = 512

// parseRcmd decodes qRcmd's argument: a comma and the command,
// hex-encoded.
func parseRcmd(b []byte) (string, error) {
	b, ok := bytes.CutPrefix(b, []byte(","))
	if !ok {
		return "", fmt.Errorf("%.40q: want ,command: %w", b, errMalformed)
	}
	cmd, err := decodeHex(nil, b)
	if err != nil {
		return "", fmt.Errorf("command %.40q: %w", b, err)
	}
	return string(cmd), nil
}

// appendRcmd encodes a qRcmd packet for cmd, which parseRcmd decodes.
func appendRcmd(dst []byte, cmd string) []byte {
	return appendHex(append(dst, "qRcmd,"...), []byte(cmd))
}

// appendConsole appends an O packet's payload: the text in hex.
func appendConsole(dst, text []byte) []byte {
	return appendHex(append(dst, 'O'), text)
}

func hasMonitor(s *Session) bool { return s.cfg.Monitor != nil }

// monitor answers qRcmd: it runs the command and replies with its output
// (see Session.reply) and OK or the command's error.
func (s *Session) monitor(args []byte) reply {
	cmd, err := parseRcmd(args)
	if err != nil {
		return errorReply(err)
	}
	var out bytes.Buffer
	after, err := s.cfg.Monitor(strings.TrimSpace(cmd), &out)
	r := okReply
	if err != nil {
		r = errorReply(err)
	}
	r.console, r.after = out.Bytes(), after
	return r
}

// sendConsole sends text to the client as O packets, cut at line ends
// where it can.
func (s *Session) sendConsole(text []byte) error {
	for len(text) > 0 {
		n := min(len(text), consoleChunk)
		if i := bytes.LastIndexByte(text[:n], '\n'); i >= 0 && n < len(text) {
			n = i + 1
		}
		s.buf = appendConsole(s.buf[:0], text[:n])
		if err := s.conn.writeReply(s.buf, s.dialect.rle); err != nil {
			return err
		}
		text = text[n:]
	}
	return nil
}

// Monitor runs a monitor command on the stub (qRcmd) and returns what it
// printed. An error reply comes back as a *ReplyError, with the output
// printed before it.
func (c *Client) Monitor(cmd string) (string, error) {
	request := string(appendRcmd(nil, cmd))
	if err := c.Send(request); err != nil {
		return "", err
	}
	var out []byte
	for {
		r, err := c.Receive()
		if err != nil {
			return string(out), err
		}
		if len(r) > 1 && r[0] == 'O' && r != "OK" {
			text, err := decodeReplyHex("qRcmd", r[1:])
			if err != nil {
				return string(out), err
			}
			out = append(out, text...)
			continue
		}
		if err := checkReply("qRcmd "+cmd, r); err != nil {
			return string(out), err
		}
		if r != "OK" {
			// The manual allows the output as the reply itself, in hex.
			text, err := decodeReplyHex("qRcmd", r)
			return string(append(out, text...)), err
		}
		return string(out), nil
	}
}
