//go:build linux

package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"procgdb/rsp"
)

// floodSize is how many idle connections TestConnectionFlood opens: far
// more than --max-clients' default of 64, and before the fix that bounded
// them, one OS thread each in procgdb.
const floodSize = 3000

// TestConnectionFlood: thousands of connections that send nothing, made
// while a client holds a stopped process at a breakpoint, cost procgdb no
// thread each: the clients over --max-clients are refused at once, with a
// line in the log, and the others wait as goroutines. The client holding
// the process is still served, and the process ends with the right
// result; once the flood is gone, a new client is served.
func TestConnectionFlood(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--max-clients")
	canAttach(t)
	n := floodSize
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Room for the flood beside what the other tests have open.
	if want := uint64(n + 1000); lim.Cur < want && lim.Cur < lim.Max {
		lim.Cur = min(want, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	if lim.Cur < uint64(n+1000) {
		n = int(lim.Cur) - 1000
	}
	const maxClients = 64 // the default
	if n < 4*maxClients {
		t.Skipf("RLIMIT_NOFILE is %d: too few descriptors for a flood", lim.Cur)
	}

	want := expectedChecksum(t, checksumRounds)
	p := startWaiting(t, checksumRounds)
	s := startMulti(t, stubOptions{})
	g := startMI(t, prog("checksum"))
	g.run("-gdb-set sysroot /", "done")
	g.run("-target-select extended-remote "+s.target, "connected")
	g.run(fmt.Sprintf("-target-attach %d", p.cmd.Process.Pid), "done")
	g.run("-break-insert work_round", "done")
	g.run("-data-evaluate-expression go=1", "done")
	g.run("-exec-continue", "running")
	g.expect(`^\*stopped,reason="breakpoint-hit",.*func="work_round",args=\[\{name="round",value="0"\}\]`)

	// The flood. Each connection's reader reports when the server
	// closes it.
	closed := make(chan struct{}, n)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", s.target)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		go func() {
			var b [1]byte
			if _, err := c.Read(b[:]); errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
				return // still open when the test ended, or closed by it
			}
			closed <- struct{}{}
		}()
	}
	refused := n - (maxClients - 1) // gdb has one place
	deadline := time.After(readyTimeout)
	for i := range refused {
		select {
		case <-closed:
		case <-deadline:
			t.Fatalf("procgdb closed %d of the %d connections over --max-clients within %v, and has %d threads",
				i, refused, readyTimeout, threadCount(t, s.cmd.Process.Pid))
		}
	}
	// The runtime's few threads and the tracer's: not one per idle client.
	if threads := threadCount(t, s.cmd.Process.Pid); threads >= maxClients-1 {
		t.Errorf("procgdb has %d threads with %d idle connections open", threads, maxClients-1)
	}
	if _, _, err := s.stderr.wait(0, regexp.MustCompile(`level=WARN msg="client refused: .*max=64`), readyTimeout, s.done); err != nil {
		t.Errorf("no refusal in procgdb's log: %v", err)
	}

	// The client that holds the process is served as before.
	g.run("-exec-continue", "running")
	g.expect(`^\*stopped,reason="breakpoint-hit",.*func="work_round",args=\[\{name="round",value="1"\}\]`)
	g.run("-break-delete", "done")
	g.run("-target-detach", "done")
	p.finishes(t, want)
	select {
	case <-closed:
		t.Error("procgdb closed a connection it had accepted")
	default:
	}

	// Gone, the flood leaves room for new clients.
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		c, err := rsp.Dial(ctx, "tcp", s.target)
		if err != nil {
			t.Fatalf("dial after the flood: %v", err)
		}
		if err := c.SetDeadline(time.Now().Add(readyTimeout)); err != nil {
			t.Fatal(err)
		}
		r, err := c.Exchange("qSupported:multiprocess+")
		c.Close()
		if err == nil && strings.HasPrefix(r, "PacketSize=") {
			break
		}
		// Refused: procgdb has not seen all of the flood go yet.
		select {
		case <-ctx.Done():
			t.Fatalf("no client served after the flood: %q, %v", r, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// threadCount returns the number of threads of process pid.
func threadCount(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Threads:\s*(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no Threads in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
