//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// basicSession is the session every transport must carry: break in main,
// continue, bt, print, continue to the exit.
var basicSession = []string{"break main", "continue", "bt", "print counter", "print pattern[1]", "continue"}

func checkBasicSession(t *testing.T, tr *transcript, report string) {
	t.Helper()
	mainFirst := lineOf(t, "basic.c", "main-first")
	tr.match("continue", `Breakpoint 1, main \(argc=2, argv=0x[0-9a-f]+\) `+atLine("basic.c", mainFirst))
	tr.match("bt", `^#0\s+main \(argc=2, argv=0x[0-9a-f]+\) `+atLine("basic.c", mainFirst))
	tr.match("print counter", `^\$\d+ = 5$`)
	tr.match("print pattern[1]", `^\$\d+ = 17 '\\021'$`)
	tr.match("continue", exitedRE(7), 2)
	checkBasicReport(t, report)
}

// shortTempDir returns a new directory with a short path: a unix socket's
// path must fit in 108 bytes, which t.TempDir's may not.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func TestTransports(t *testing.T) {
	prepare(t)
	t.Run("tcp", func(t *testing.T) {
		prepare(t)
		report := filepath.Join(t.TempDir(), "report")
		s := startStub(t, stubOptions{prog: prog("basic"), args: []string{report}})
		// As the README says: gdb's "target remote :PORT".
		port := s.target[strings.LastIndex(s.target, ":"):]
		tr := runGDB(t, prog("basic"), "target remote "+port, basicSession...)
		checkBasicSession(t, tr, report)
		s.waitStderr(`^Remote debugging from host (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1), port \d+$`)
		s.waitStderr(`^Child exited with status 7$`)
	})
	t.Run("unix", func(t *testing.T) {
		prepare(t)
		onlyProcgdb(t, "a unix socket")
		report := filepath.Join(t.TempDir(), "report")
		sock := filepath.Join(shortTempDir(t), "gdb.sock")
		s := startStub(t, stubOptions{comm: "unix:" + sock, prog: prog("basic"), args: []string{report}})
		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want a socket with permissions 0600", sock, fi.Mode())
		}
		tr := s.gdb(basicSession...)
		checkBasicSession(t, tr, report)
		// The process is gone, so the stub ends and removes its socket.
		if err := s.waitExit(exitTimeout); err != nil {
			t.Errorf("%s exited with %v after the program exited", suite.stub, err)
		}
		if _, err := os.Lstat(sock); !os.IsNotExist(err) {
			t.Errorf("%s still exists after the stub exited (%v)", sock, err)
		}
	})
	// gdbserver takes its stdin and stdout as - or stdio.
	for _, comm := range []string{"-", "stdio"} {
		t.Run("stdio "+comm, func(t *testing.T) {
			testStdio(t, comm)
		})
	}
}

// testStdio serves testdata/basic.c on the stub's stdin and stdout
// (COMM comm), gdb starting the stub through a pipe.
func testStdio(t *testing.T, comm string) {
	prepare(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	// The stub's stderr goes to a file, not into gdb's output where
	// --remote-debug logs would interleave with gdb's lines.
	stderr := filepath.Join(dir, "stub.stderr")
	pipe := fmt.Sprintf("target remote | %s %s %s %s %s 2>%s", shellQuote(suite.stubPath),
		strings.Join(stubFlags(false), " "), comm, shellQuote(prog("basic")), shellQuote(report), shellQuote(stderr))
	tr := runGDB(t, prog("basic"), pipe, basicSession...)
	log := readFile(t, stderr)
	if m := regexp.MustCompile(`(?m)^Process .* created; pid = (\d+)$`).FindStringSubmatch(log); m != nil {
		pid, _ := strconv.Atoi(m[1])
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	} else {
		t.Errorf("no line \"Process %s created; pid = N\" on the stub's stderr", prog("basic"))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s stderr:\n%s", suite.stub, log)
		}
	})
	checkBasicSession(t, tr, report)
}

// TestReconnect disconnects gdb from a stub started without --once and
// connects a second gdb: the process must still be where the first left it.
func TestReconnect(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	tr := s.gdb("break main", "continue", "disconnect")
	tr.match("continue", `Breakpoint 1, main \(`)

	// gdb retries a refused connection for a while, so the second
	// connection need not wait for the stub to listen again.
	checkSecondClient(t, s, s.gdb("bt", "print counter", "continue"), report)
}

// checkSecondClient checks the session of a second client that found
// testdata/basic.c stopped at its breakpoint in main, where the first
// left it, and ran "bt", "print counter" and "continue": the program ran
// on from there to its normal end, without a breakpoint left behind, and
// the stub saw two connections.
func checkSecondClient(t *testing.T, s *stub, tr *transcript, report string) {
	t.Helper()
	mainFirst := lineOf(t, "basic.c", "main-first")
	tr.match("bt", `^#0\s+main \(argc=2, argv=0x[0-9a-f]+\) `+atLine("basic.c", mainFirst))
	tr.match("print counter", `^\$\d+ = 5$`)
	tr.match("continue", exitedRE(7))
	tr.noMatch("continue", `SIGTRAP`)
	checkBasicReport(t, report)
	if n := s.stderr.count(regexp.MustCompile(`^Remote debugging from host `)); n != 2 {
		t.Errorf("the stub reported %d connections, want 2", n)
	}
}

// TestOnce: with --once the stub ends when its client disconnects, and the
// process it launched does not outlive it.
func TestOnce(t *testing.T) {
	prepare(t)
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{once: true, prog: prog("basic"), args: []string{report}})
	tr := s.gdb("break main", "continue", "disconnect")
	tr.match("continue", `Breakpoint 1, main \(`)
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("%s --once exited with %v after its client disconnected", suite.stub, err)
	}
	waitGone(t, s.pid)
}

// waitGone waits, bounded, until process pid no longer exists or is a
// zombie (it may take its new parent a moment to reap it). Nothing tells
// another process's end, so it polls.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists after %v: %s", pid, exitTimeout, procState(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listenAddrs returns the local addresses, as /proc/net/tcp{,6} print them
// (hex), of the listening TCP sockets on port.
func listenAddrs(t *testing.T, port int) []string {
	t.Helper()
	var addrs []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // no IPv6
		}
		for _, l := range scanLines(string(b))[1:] {
			fields := strings.Fields(l)
			if len(fields) < 4 || fields[3] != "0A" { // TCP_LISTEN
				continue
			}
			addr, p, ok := strings.Cut(fields[1], ":")
			if n, err := strconv.ParseUint(p, 16, 16); ok && err == nil && int(n) == port {
				addrs = append(addrs, addr)
			}
		}
	}
	return addrs
}

// TestListenAddress: ":PORT" listens on loopback only; every interface must
// be asked for and draws a warning.
func TestListenAddress(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "loopback-only :PORT") // gdbserver binds every interface
	const (
		loopback4 = "0100007F"                         // 127.0.0.1
		loopback6 = "00000000000000000000000001000000" // ::1
		any4      = "00000000"
		any6      = "00000000000000000000000000000000"
	)
	tests := []struct {
		comm    string
		want    []string
		warning bool
	}{
		{":0", []string{loopback4, loopback6}, false},
		{"127.0.0.1:0", []string{loopback4}, false},
		// Go listens on [::] for 0.0.0.0 (dual stack): every interface.
		{"0.0.0.0:0", []string{any4, any6}, true},
	}
	for _, tt := range tests {
		t.Run(tt.comm, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{comm: tt.comm, prog: prog("basic")})
			port, _ := strconv.Atoi(s.target[strings.LastIndex(s.target, ":")+1:])
			addrs := listenAddrs(t, port)
			if len(addrs) == 0 {
				t.Fatalf("no listening socket on port %d", port)
			}
			for _, a := range addrs {
				ok := false
				for _, w := range tt.want {
					ok = ok || a == w
				}
				if !ok {
					t.Errorf("%s: listening on %s (hex, as /proc/net/tcp shows it), want one of %v", tt.comm, a, tt.want)
				}
			}
			warned := s.stderr.count(regexp.MustCompile(`(?i)warning`)) > 0
			if warned != tt.warning {
				t.Errorf("%s: warning on stderr: %v, want %v:\n%s", tt.comm, warned, tt.warning, s.stderr)
			}
		})
	}
}
