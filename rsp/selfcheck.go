package rsp

import (
	"bytes"
	"fmt"
	"strings"

	"procgdb/internal/selftest"
)

// SelfChecks returns rsp's checks for procgdb --selftest: packets survive
// framing and escaping, the escape scan (SIMD where the CPU has it)
// agrees with the byte-by-byte unescaper, and the packet decoders read
// back what the encoders write.
func SelfChecks() []selftest.Check {
	return []selftest.Check{
		{Name: "rsp: framing, escapes and checksums round trip", Run: checkFraming},
		{Name: "rsp: memory replies escaped in place", Run: checkEscapes},
		{Name: "rsp: packet decoders round trip", Run: checkDecoders},
	}
}

// selfCheckPayloads are payloads with every byte value, the bytes that
// need escaping alone and in runs, and a long run.
func selfCheckPayloads() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return [][]byte{all, []byte("$#}*"), []byte("}}}}$$$$####****"), bytes.Repeat([]byte("a"), 4096), {}}
}

// checkFraming sends each payload through the stub's writer and reads it
// with the client's reader.
func checkFraming() (string, error) {
	var wire bytes.Buffer
	stub, client := newConn(&wire, readLimit, false, nil), newConn(&wire, readLimit, true, nil)
	stub.setAck(false)
	client.setAck(false)
	for _, p := range selfCheckPayloads() {
		if err := stub.writePacket(p); err != nil {
			return "", err
		}
		f, err := client.readFrame()
		if err != nil {
			return "", fmt.Errorf("payload of %d bytes: %w", len(p), err)
		}
		if f.kind != framePacket || !bytes.Equal(f.payload, p) {
			return "", fmt.Errorf("payload of %d bytes came back as %d bytes", len(p), len(f.payload))
		}
	}
	return fmt.Sprintf("%d payloads", len(selfCheckPayloads())), nil
}

// checkEscapes escapes each payload in place, as memory replies are
// built, and checks the result against the unescaper and the checksum.
func checkEscapes() (string, error) {
	for _, p := range selfCheckPayloads() {
		n := len(p)
		buf := make([]byte, 2*n)
		copy(buf[n:], p)
		end, sum := escapeInPlace(buf, 0, n, n)
		escaped := bytes.Clone(buf[:end])
		if sum != checksum(escaped) {
			return "", fmt.Errorf("%d bytes: checksum %#x, want %#x", n, sum, checksum(escaped))
		}
		back, err := unescape(escaped)
		if err != nil || !bytes.Equal(back, p) {
			return "", fmt.Errorf("%d bytes do not unescape to themselves (%v)", n, err)
		}
	}
	return "", nil
}

// decodesBack returns a check that decodes a packet's arguments with parse
// and encodes them again with app: the bytes must come back unchanged.
func decodesBack[T any](parse func([]byte) (T, error), app func([]byte, T) []byte) func(string) error {
	return func(in string) error {
		v, err := parse([]byte(in))
		if err != nil {
			return err
		}
		if out := app(nil, v); string(out) != in {
			return fmt.Errorf("encodes back as %q", out)
		}
		return nil
	}
}

// checkDecoders round-trips typical arguments of the packets that have
// an encoder (gdb's and lldb's, as they send them).
func checkDecoders() (string, error) {
	rcmd := func(b []byte) (string, error) { return parseRcmd(append([]byte(","), b...)) }
	appRcmd := func(dst []byte, cmd string) []byte { return appendHex(dst, []byte(cmd)) }
	tests := []struct {
		packet string
		in     string
		check  func(string) error
	}{
		{"m", "7ffff7fe4b70,40", decodesBack(parseMemRead, appendMemRead)},
		{"Z", "2,555555558010,4", decodesBack(parseBreakpoint, appendBreakpoint)},
		{"vCont", ";r401000,401010:p1f2.1f2;c:p-1.-1", decodesBack(parseVCont, appendVCont)},
		{"vRun", hexString("/bin/true") + ";" + hexString("a b") + ";", decodesBack(parseVRun, appendVRun)},
		{"qRcmd", hexString("set debug 1"), decodesBack(rcmd, appRcmd)},
		{"qXfer", "features:read:target.xml:0,fffb", decodesBack(parseXfer, appendXfer)},
		{"qSearch:memory", "401000;100;" + hexString("needle"), decodesBack(parseSearch, appendSearch)},
		{"P", "10=" + strings.Repeat("ab", 8), decodesBack(parseRegWrite, appendRegWrite)},
		{"QCatchSyscalls", "1;e7;3c", decodesBack(parseCatchSyscalls, appendCatchSyscalls)},
		{"MultiMemRead", "ranges:401000,8,402000,10;", decodesBack(parseMultiMemRead, appendMultiMemRead)},
		{"vFile:open", hexString("/etc/hostname") + ",0,1a4", decodesBack(parseFileOpen, appendFileOpen)},
		{"vFile:pread", "3,4000,0", decodesBack(parseFilePread, appendFilePread)},
	}
	for _, tt := range tests {
		if err := tt.check(tt.in); err != nil {
			return "", fmt.Errorf("%s %q: %w", tt.packet, tt.in, err)
		}
	}
	return fmt.Sprintf("%d packets", len(tests)), nil
}

func hexString(s string) string { return string(appendHex(nil, []byte(s))) }
