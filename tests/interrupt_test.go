//go:build linux

package tests

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"procgdb/rsp"
)

// Interrupts that race with the stub's own stops. gdb sends the interrupt
// byte whenever its user (or an IDE) wants the program stopped; it may
// cross a stop reply on the wire, or arrive while the stub is single-stepping
// a thread over a breakpoint for gdb, which then resumes the program at
// once. gdbserver turns every interrupt byte into a SIGINT for the program,
// which stays pending until the program runs again: an interrupt is never
// lost, and one interrupt is one stop.

// replyTimeout bounds the wait for one stop reply in the packet-level tests:
// a program that spins until it is interrupted stops within it, or its
// interrupt was lost.
const replyTimeout = 10 * time.Second

// processSymbolAddr returns the run-time address of function name of
// program path, loaded (position-independent or not) in process pid.
func processSymbolAddr(t *testing.T, pid int, path, name string) uint64 {
	t.Helper()
	value, typ := elfSymbol(t, path, name, elf.STT_FUNC)
	if typ != elf.ET_DYN {
		return value
	}
	return loadBase(t, pid, path) + value
}

// loadBase returns the address process pid mapped the start of file path at.
func loadBase(t *testing.T, pid int, path string) uint64 {
	t.Helper()
	m, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sc := bufio.NewScanner(m)
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) == 6 && f[5] == path && f[2] == "00000000" {
			start, err := strconv.ParseUint(f[0][:strings.IndexByte(f[0], '-')], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return start
		}
	}
	t.Fatalf("process %d has not mapped %s", pid, path)
	return 0
}

// stopSignal returns the signal number of a T or S stop reply.
func stopSignal(t *testing.T, r string) int {
	t.Helper()
	if len(r) < 3 || (r[0] != 'T' && r[0] != 'S') {
		t.Fatalf("got %q, want a T or S stop reply", r)
	}
	sig, err := strconv.ParseUint(r[1:3], 16, 8)
	if err != nil {
		t.Fatalf("stop reply %q: %v", r, err)
	}
	return int(sig)
}

// stopThread returns the thread id of a T stop reply, as the stub wrote it.
func stopThread(t *testing.T, r string) string {
	t.Helper()
	for _, f := range strings.Split(r[3:], ";") {
		if id, ok := strings.CutPrefix(f, "thread:"); ok {
			return id
		}
	}
	t.Fatalf("stop reply %q names no thread", r)
	return ""
}

// receiveStop waits at most replyTimeout for the next stop reply.
func receiveStop(t *testing.T, c *rsp.Client, what string) string {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(replyTimeout)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Receive()
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("%s: no stop reply within %v: the interrupt was lost", what, replyTimeout)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return r
}

// spinFor busy-waits for d: a random delay that is not a sleep, so that
// the interrupt byte leaves at any moment of what the stub is doing.
func spinFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

const (
	sigINT  = 2 // gdb's and Linux's numbers agree for these
	sigTRAP = 5
)

// TestInterruptRaces drives testdata/hotloop.c at packet level, many
// times over, the way gdb steps over a breakpoint: the thread stops at the
// breakpoint in tick(), the breakpoint is removed, the thread is stepped
// or range-stepped and then continued; or it is continued with the
// breakpoint still in place. The interrupt byte goes out at a random
// moment: with the resume, some microseconds after it, or after the
// step's stop reply came in. Whatever the stub was doing, the interrupt
// must end in a SIGINT stop within the next two resumes (with the
// breakpoint removed, nothing else can stop the loop), and only one: the
// next stop is the breakpoint again.
func TestInterruptRaces(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("hotloop")})
	c := dialStub(t, s)
	tick := processSymbolAddr(t, s.pid, prog("hotloop"), "tick")
	// swbreak+: the stub, not the client, moves the PC back over int3.
	if r := exchange(t, c, gdbQSupported); !strings.Contains(r, "swbreak+") {
		t.Fatalf("qSupported: %q lacks swbreak+", r)
	}
	// As gdb over TCP: an interrupt byte must not land where the stub
	// waits for an acknowledgment (gdbserver takes it for a '-').
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	tid := stopThread(t, exchange(t, c, "?"))
	insert := fmt.Sprintf("Z0,%x,1", tick)
	remove := fmt.Sprintf("z0,%x,1", tick)
	mustOK := func(p string) {
		t.Helper()
		if r := exchange(t, c, p); r != "OK" {
			t.Fatalf("%q: got %q, want OK", p, r)
		}
	}
	send := func(p string) {
		t.Helper()
		if err := c.Send(p); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
	}
	interrupt := func() {
		t.Helper()
		if err := c.Interrupt(); err != nil {
			t.Fatal(err)
		}
	}
	mustOK(insert)
	send("vCont;c")
	if r := receiveStop(t, c, "first continue"); stopSignal(t, r) != sigTRAP {
		t.Fatalf("first continue: got %q, want the breakpoint in tick", r)
	}

	// Each way of leaving the breakpoint, and when the interrupt goes out.
	type race struct {
		name   string
		resume string // the first resume, with the breakpoint still inserted
		// lift removes the breakpoint before the first resume, as gdb
		// does to step over it.
		lift bool
		// after says when the interrupt goes: 0 with the resume, > 0
		// up to that long after it, < 0 once its stop reply is in.
		after time.Duration
	}
	step := "vCont;s:" + tid
	// A range no instruction leaves: only the interrupt ends it.
	rangeStep := "vCont;r0,7fffffffffffffff:" + tid
	races := []race{
		{"step, interrupt with it", step, true, 0},
		{"step, interrupt just after", step, true, 200 * time.Microsecond},
		{"step, interrupt after its stop", step, true, -1},
		{"range step, interrupt with it", rangeStep, true, 0},
		{"range step, interrupt later", rangeStep, true, 2 * time.Millisecond},
		{"continue at the breakpoint, interrupt with it", "vCont;c", false, 0},
		{"continue at the breakpoint, interrupt just after", "vCont;c", false, 200 * time.Microsecond},
		{"continue at the breakpoint, interrupt after its stop", "vCont;c", false, -1},
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	const rounds = 100
	for i := range rounds * len(races) {
		rc := races[i%len(races)]
		what := fmt.Sprintf("round %d (%s)", i, rc.name)
		inserted := true
		if rc.lift {
			mustOK(remove)
			inserted = false
		}
		send(rc.resume)
		switch {
		case rc.after == 0:
			interrupt()
		case rc.after > 0:
			spinFor(time.Duration(rnd.Int64N(int64(rc.after))))
			interrupt()
		}
		interrupted := false
		for n := 0; n < 3 && !interrupted; n++ {
			r := receiveStop(t, c, what)
			switch sig := stopSignal(t, r); {
			case sig == sigINT:
				interrupted = true
			case sig != sigTRAP:
				t.Fatalf("%s: got %q, want SIGTRAP or SIGINT", what, r)
			case n == 2:
				t.Fatalf("%s: still no SIGINT after two resumes: the interrupt was lost", what)
			default:
				// The step ended, or the breakpoint was hit again
				// (gdbserver lets a thread at an inserted
				// breakpoint hit it): continue with nothing left
				// to stop at but the interrupt.
				if inserted {
					mustOK(remove)
					inserted = false
				}
				if rc.after < 0 && n == 0 {
					interrupt()
				}
				send("vCont;c")
			}
		}
		if !interrupted {
			t.Fatalf("%s: no SIGINT stop", what)
		}
		// One interrupt, one stop: the next stop is the breakpoint.
		if !inserted {
			mustOK(insert)
		}
		send("vCont;c")
		if r := receiveStop(t, c, what+", then continue"); stopSignal(t, r) != sigTRAP {
			t.Fatalf("%s, then continue to the breakpoint: got %q: the interrupt was reported twice", what, r)
		}
	}
}

// TestInterruptStepOvers interrupts testdata/hotloop.c through gdb/MI
// while gdb evaluates a breakpoint condition that is never true on every
// round of the loop: gdb stops, finds the condition false, steps the
// thread over the breakpoint and continues, again and again, so that the
// interrupt often arrives while gdb steps over the breakpoint. Every
// -exec-interrupt must stop the program with SIGINT, and none may be
// reported again later: at the end the program exits normally.
func TestInterruptStepOvers(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("hotloop")})
	g := startMI(t, prog("hotloop"))
	g.run("-gdb-set mi-async on", "done")
	// gdbserver could evaluate the condition itself: make both stubs
	// report every hit to gdb.
	g.run("-gdb-set breakpoint condition-evaluation host", "done")
	g.run("-target-select remote "+s.target, "connected")
	g.run("-break-insert -c stop==2 tick", "done")

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	const interrupts = 25
	for range interrupts {
		g.run("-exec-continue", "running")
		g.expect(`^\*running,thread-id="all"`)
		spinFor(time.Duration(rnd.Int64N(int64(3 * time.Millisecond))))
		g.run("-exec-interrupt", "done")
		g.expect(`^\*stopped,reason="signal-received",signal-name="SIGINT"`)
	}
	g.run("-break-delete", "done")
	g.run("-data-evaluate-expression stop=1", "done")
	g.run("-exec-continue", "running")
	g.expect(`^\*stopped,reason="exited",exit-code="03"`)
}
