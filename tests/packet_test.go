//go:build linux

package tests

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"procgdb/rsp"
)

// dialStub connects procgdb's own RSP client to the stub.
func dialStub(t *testing.T, s *stub) *rsp.Client {
	t.Helper()
	var c *rsp.Client
	dialRetry(t, s.target, func(ctx context.Context) (err error) {
		c, err = rsp.Dial(ctx, "tcp", s.target)
		return err
	})
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(gdbTimeout)); err != nil {
		t.Fatal(err)
	}
	return c
}

// dialRetry calls dial until it connects, within readyTimeout. A stub may
// close its listener for a moment between two clients, so a refused
// connection is retried, as gdb does.
func dialRetry(t *testing.T, target string, dial func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		err := dial(ctx)
		if err == nil {
			return
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
			t.Fatalf("dial %s: %v", target, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// exchange sends payload and returns the reply, failing the test on an
// error.
func exchange(t *testing.T, c *rsp.Client, payload string) string {
	t.Helper()
	reply, err := c.Exchange(payload)
	if err != nil {
		t.Fatalf("%q: %v", payload, err)
	}
	return reply
}

// stillAnswers checks that the session goes on: "?" gets a T stop reply.
func stillAnswers(t *testing.T, c *rsp.Client) {
	t.Helper()
	if r := exchange(t, c, "?"); !strings.HasPrefix(r, "T") {
		t.Errorf(`"?" after the bad input: got %q, want a T stop reply`, r)
	}
}

// stackEnd returns the end address of process pid's stack mapping, which no
// mapping follows.
func stackEnd(t *testing.T, pid int) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasSuffix(sc.Text(), "[stack]") {
			r := strings.Fields(sc.Text())[0]
			end, err := strconv.ParseUint(r[strings.IndexByte(r, '-')+1:], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return end
		}
	}
	t.Fatalf("process %d has no [stack] mapping", pid)
	return 0
}

// TestMalformedPackets sends procgdb input a client should not send, one
// kind per subtest, each on a fresh stub, and checks the reply and that the
// session goes on.
func TestMalformedPackets(t *testing.T) {
	prepare(t)
	tests := []struct {
		name string
		only bool // procgdb's behaviour, not gdbserver's
		run  func(t *testing.T, s *stub, c *rsp.Client)
	}{{
		name: "bad checksum",
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			if err := c.WriteRaw([]byte("$?#00")); err != nil {
				t.Fatal(err)
			}
			if b, err := c.ReadAck(); err != nil || b != '-' {
				t.Errorf("a packet with a bad checksum: got %q, %v; want '-'", b, err)
			}
		},
	}, {
		// The next packet follows a packet cut short: the stub either
		// starts over at its '$' or rejects the whole with '-', and the
		// client then sends it again.
		name: "truncated packet",
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			if err := c.WriteRaw([]byte("$m4")); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "bad hex",
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			for _, p := range []string{"mzz,4", "m1000,zz", "Mzz,1:00", "Xzz,0:"} {
				if r := exchange(t, c, p); !strings.HasPrefix(r, "E") {
					t.Errorf("%q: got %q, want an E reply", p, r)
				}
			}
		},
	}, {
		name: "unknown packet",
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			for _, p := range []string{"qProcgdbNoSuchQuery", "vProcgdbNoSuchVerb", "QProcgdbNoSuchSetting:1", "jProcgdbNoSuch"} {
				if r := exchange(t, c, p); r != "" {
					t.Errorf("%q: got %q, want the empty reply", p, r)
				}
			}
		},
	}, {
		name: "unmapped memory",
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			for _, p := range []string{"m0,4", "m10,1", "mffffffffffff0000,10"} {
				if r := exchange(t, c, p); !strings.HasPrefix(r, "E") {
					t.Errorf("%q: got %q, want an E reply", p, r)
				}
			}
		},
	}, {
		// A read that runs off the end of a mapping returns what was
		// readable (the manual allows a shorter reply to m).
		name: "read across the end of a mapping",
		only: true, // gdbserver answers E01
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			end := stackEnd(t, s.pid)
			p := fmt.Sprintf("m%x,4", end-2)
			if r := exchange(t, c, p); len(r) != 4 {
				t.Errorf("%q (2 bytes before the end of the stack): got %q, want 2 bytes", p, r)
			}
		},
	}, {
		name: "register number out of range",
		only: true, // gdbserver replies with the empty packet
		run: func(t *testing.T, s *stub, c *rsp.Client) {
			for _, p := range []string{"p9999", "pffffffff", "P9999=00"} {
				if r := exchange(t, c, p); !strings.HasPrefix(r, "E") {
					t.Errorf("%q: got %q, want an E reply", p, r)
				}
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prepare(t)
			if tt.only {
				onlyProcgdb(t, tt.name)
			}
			s, _ := startBasic(t)
			c := dialStub(t, s)
			tt.run(t, s, c)
			stillAnswers(t, c)
		})
	}
}

// TestTruncatedPacket: a client that goes away in the middle of a packet
// must leave the stub serving the next one (without --once).
func TestTruncatedPacket(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	c := dialStub(t, s)
	if err := c.WriteRaw([]byte("$m4")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	stillAnswers(t, dialStub(t, s))
}

// TestErrorReplies: errors come as "E.text" with the reason to a client
// that offered error-message+ (gdb 15 and later), as "E NN" to one that did
// not (gdb 13), and as lldb's "E NN;HEX-TEXT" after QEnableErrorStrings.
func TestErrorReplies(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "error-message+")
	s, _ := startBasic(t)
	c := dialStub(t, s)
	failing := []struct{ packet, code, text string }{
		{"m0,8", "E05", "m: read 0x0+8: "},
		{"x0,8", "E05", "x: read 0x0+8: "},
		{"M0,1:00", "E05", "M: write 0x0+1 "},
		{"p1ff", "E02", "p: regs: unknown register 511"},
		{"Hgp999.999", "E02", "H: p999.999: unknown thread"},
		{"vCont;c:p999.999", "E02", "vCont: p999.999: unknown thread"},
		{"mzz,4", "E01", `m: address "zz": invalid hex digit`},
	}

	if r := exchange(t, c, gdbQSupported+";error-message+"); !slices.Contains(strings.Split(r, ";"), "error-message+") {
		t.Fatalf("qSupported with error-message+: %q does not offer it back", r)
	}
	for _, f := range failing {
		if r := exchange(t, c, f.packet); !strings.HasPrefix(r, "E."+f.text) {
			t.Errorf("%s with error-message+: %q, want E.%s...", f.packet, r, f.text)
		}
	}

	if r := exchange(t, c, gdbQSupported); strings.Contains(r, "error-message+") {
		t.Errorf("qSupported without error-message+: %q offers it", r)
	}
	for _, f := range failing {
		if r := exchange(t, c, f.packet); r != f.code {
			t.Errorf("%s without error-message+: %q, want %s", f.packet, r, f.code)
		}
	}

	exchange(t, c, lldbQSupported)
	if r := exchange(t, c, "QEnableErrorStrings"); r != "OK" {
		t.Fatalf("QEnableErrorStrings: %q", r)
	}
	for _, f := range failing {
		r := exchange(t, c, f.packet)
		code, text, _ := strings.Cut(r, ";")
		b, err := hex.DecodeString(text)
		if code != f.code || err != nil || !strings.HasPrefix(string(b), f.text) {
			t.Errorf("%s after QEnableErrorStrings: %q (text %q), want %s;HEX(%s...)", f.packet, r, b, f.code, f.text)
		}
	}
	stillAnswers(t, c)
}
