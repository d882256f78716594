package tests

import (
	"debug/elf"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"procgdb/rsp"
)

// Non-stop mode (gdb's "set non-stop on"), driven through gdb/MI: one
// thread of testdata/nonstop.c stops at a breakpoint while the counting
// threads run on.

// nonStopMI starts gdb/MI in non-stop mode on testdata/nonstop.c,
// connected to a stub with "target remote" or, when extended, "target
// extended-remote" and run; it returns with the program running to a
// breakpoint at hit(), which is inserted.
func nonStopMI(t *testing.T, extended bool) (*mi, *stub) {
	t.Helper()
	g := startMI(t, prog("nonstop"))
	g.run("-gdb-set mi-async on", "done")
	g.run("-gdb-set non-stop on", "done")
	var s *stub
	if extended {
		s = startMulti(t, stubOptions{})
		g.run("-target-select extended-remote "+s.target, "connected")
		g.run("-gdb-set remote exec-file "+prog("nonstop"), "done")
		g.run("-break-insert hit", "done")
		g.run("-exec-run", "running")
	} else {
		s = startStub(t, stubOptions{prog: prog("nonstop")})
		g.run("-target-select remote "+s.target, "connected")
		g.run("-break-insert hit", "done")
		g.run("-exec-continue", "running")
	}
	return g, s
}

var (
	threadEntryRE = regexp.MustCompile(`\{id="(\d+)",target-id=`)
	threadStateRE = regexp.MustCompile(`state="(\w+)"`)
)

// threadStates returns gdb's state of each thread, by gdb's thread id.
func (g *mi) threadStates() map[string]string {
	g.t.Helper()
	r := g.run("-thread-info", "done")
	states := map[string]string{}
	starts := threadEntryRE.FindAllStringSubmatchIndex(r, -1)
	for i, m := range starts {
		end := len(r)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		if st := threadStateRE.FindStringSubmatch(r[m[1]:end]); st != nil {
			states[r[m[2]:m[3]]] = st[1]
		}
	}
	return states
}

// value evaluates expr and returns its value.
func (g *mi) value(expr string) string {
	g.t.Helper()
	r := g.run(fmt.Sprintf("-data-evaluate-expression %q", expr), "done")
	m := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(r)
	if m == nil {
		g.t.Fatalf("evaluate %s: %s", expr, r)
	}
	return m[1]
}

// countersMove waits, within a bounded time, until every counter of
// nonstop.c has gone past its value now: the counting threads run.
func (g *mi) countersMove() {
	g.t.Helper()
	read := func() []uint64 {
		var c []uint64
		for i := range 4 {
			v, err := strconv.ParseUint(g.value(fmt.Sprintf("counters[%d]", i)), 10, 64)
			if err != nil {
				g.t.Fatal(err)
			}
			c = append(c, v)
		}
		return c
	}
	before := read()
	deadline := time.Now().Add(gdbTimeout)
	for {
		now := read()
		moved := true
		for i := range now {
			moved = moved && now[i] > before[i]
		}
		if moved {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("the counters stay at %v (were %v): the threads do not run", now, before)
		}
		time.Sleep(10 * time.Millisecond) // the threads count meanwhile
	}
}

var hitRE = regexp.MustCompile(`^\*stopped,reason="breakpoint-hit",.*thread-id="(\d+)"`)

func TestNonStop(t *testing.T) {
	prepare(t)
	for _, extended := range []bool{false, true} {
		name := "remote"
		if extended {
			name = "extended-remote"
		}
		t.Run(name, func(t *testing.T) {
			g, _ := nonStopMI(t, extended)

			// One thread stops at the breakpoint; the others are
			// running, and count.
			hitter := hitRE.FindStringSubmatch(g.expect(hitRE.String()))[1]
			states := g.threadStates()
			if len(states) < 6 || states[hitter] != "stopped" {
				t.Fatalf("thread states %v, want thread %s stopped and five more", states, hitter)
			}
			for id, st := range states {
				if id != hitter && st != "running" {
					t.Errorf("thread %s is %s, want running (all: %v)", id, st, states)
				}
			}
			g.countersMove()

			// That thread alone continues, and hits the breakpoint
			// again.
			for range 3 {
				g.run("-exec-continue --thread "+hitter, "running")
				if got := hitRE.FindStringSubmatch(g.expect(hitRE.String()))[1]; got != hitter {
					t.Fatalf("breakpoint hit by thread %s, want %s", got, hitter)
				}
			}

			// It steps by lines (range steps, while the others run).
			for range 3 {
				g.run("-exec-next --thread "+hitter, "running")
				g.expect(`^\*stopped,reason="end-stepping-range",.*thread-id="` + hitter + `"`)
			}

			// Interrupting one thread stops it alone.
			other := "1"
			g.run("-exec-interrupt --thread "+other, "done")
			g.expect(`^\*stopped,.*thread-id="` + other + `"`)
			states = g.threadStates()
			if states[other] != "stopped" {
				t.Fatalf("thread %s is %s after its interrupt", other, states[other])
			}
			g.countersMove()

			// Interrupt all, continue all.
			g.run("-exec-interrupt --all", "done")
			g.allStopped()
			before := g.value("counters[0]")
			g.run("-break-delete", "done")
			g.run("-exec-continue --all", "running")
			g.countersMove()
			if g.value("counters[0]") == before {
				t.Fatal("counters[0] did not move after -exec-continue --all")
			}

			// A breakpoint inserted while every thread runs is hit.
			g.run("-break-insert hit", "done")
			hitter = hitRE.FindStringSubmatch(g.expect(hitRE.String()))[1]

			// A thread exits while another is stopped.
			n := len(g.threadStates())
			g.value("leave=1")
			deadline := time.Now().Add(gdbTimeout)
			for len(g.threadStates()) != n-1 {
				if time.Now().After(deadline) {
					t.Fatalf("thread list %v after the leaving thread's exit, want %d threads", g.threadStates(), n-1)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if st := g.threadStates()[hitter]; st != "stopped" {
				t.Fatalf("thread %s is %s, want still stopped", hitter, st)
			}

			// The program ends.
			g.run("-break-delete", "done")
			g.value("quit=1")
			g.run("-exec-continue --all", "running")
			g.expect(`^\*stopped,reason="exited-normally"`)
		})
	}
}

// allStopped waits, within a bounded time, until gdb sees every thread
// stopped.
func (g *mi) allStopped() {
	g.t.Helper()
	deadline := time.Now().Add(gdbTimeout)
	for {
		states := g.threadStates()
		running := 0
		for _, st := range states {
			if st == "running" {
				running++
			}
		}
		if running == 0 && len(states) > 0 {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("threads still running: %v", states)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNonStopAttach: gdb attaches in non-stop mode (the threads are
// reported as it stops them), runs and interrupts them, and detaches.
func TestNonStopAttach(t *testing.T) {
	prepare(t)
	p := startProcess(t, "nonstop")
	s := startStub(t, stubOptions{multi: true})
	g := startMI(t, prog("nonstop"))
	g.run("-gdb-set mi-async on", "done")
	g.run("-gdb-set non-stop on", "done")
	g.run("-target-select extended-remote "+s.target, "connected")
	g.run(fmt.Sprintf("-target-attach %d", p.cmd.Process.Pid), "done")
	g.expect(`^\*stopped`)
	g.allStopped()
	g.run("-exec-continue --all", "running")
	g.countersMove()
	g.run("-exec-interrupt --all", "done")
	g.allStopped()
	g.run("-target-detach", "done")
	status := readFile(t, fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if !strings.Contains(status, "TracerPid:\t0\n") || regexp.MustCompile(`State:\s+[tT]`).MatchString(status) {
		t.Fatalf("process %d after detach:\n%s", p.cmd.Process.Pid, status)
	}
}

// TestNonStopDetachWhileRunning: a program detached from while its threads
// run goes on running, free of the debugger.
func TestNonStopDetachWhileRunning(t *testing.T) {
	prepare(t)
	g, _ := nonStopMI(t, true)
	g.expect(hitRE.String())
	r := g.run("-list-thread-groups", "done")
	pid := regexp.MustCompile(`pid="(\d+)"`).FindStringSubmatch(r)[1]
	t.Cleanup(func() { // it runs on after the detach
		n, _ := strconv.Atoi(pid)
		_ = syscall.Kill(n, syscall.SIGKILL)
	})
	g.run("-break-delete", "done")
	g.run("-exec-continue --all", "running")
	g.countersMove()
	g.run("-target-detach", "done")
	status := readFile(t, "/proc/"+pid+"/status")
	if !strings.Contains(status, "TracerPid:\t0\n") || regexp.MustCompile(`State:\s+[tT]`).MatchString(status) {
		t.Fatalf("process %s after detach:\n%s", pid, status)
	}
}

// TestNonStopDisconnectWhileRunning: a client that disconnects while
// threads run leaves them to the stub, which stops them for the next
// client (an all-stop one here), which finds the program stopped and
// runs it to its end.
func TestNonStopDisconnectWhileRunning(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "a non-stop client's running threads stopped for the next client")
	g, s := nonStopMI(t, true)
	g.expect(hitRE.String())
	g.run("-break-delete", "done")
	g.run("-exec-continue --all", "running")
	g.countersMove()
	g.run("-target-disconnect", "done")

	g2 := startMI(t, prog("nonstop"))
	g2.run("-gdb-set mi-async on", "done")
	g2.run("-target-select extended-remote "+s.target, "connected")
	c := g2.value("counters[0]")
	for range 3 {
		g2.run("-thread-info", "done") // the program's threads run meanwhile, if they do
		if now := g2.value("counters[0]"); now != c {
			t.Fatalf("counters[0] moves (%s, then %s) while the new client sees the program stopped", c, now)
		}
	}
	g2.value("quit=1")
	g2.run("-exec-continue", "running")
	g2.expect(`^\*stopped,reason="exited-normally"`)
}

// nonStopStops reads a stop notification and drains the stops queued
// behind it with vStopped, returning them all.
func nonStopStops(t *testing.T, c *rsp.Client) []string {
	t.Helper()
	n, err := c.Notification()
	if err != nil {
		t.Fatalf("stop notification: %v", err)
	}
	stop, ok := strings.CutPrefix(n, "Stop:")
	if !ok {
		t.Fatalf("notification %q, want Stop:...", n)
	}
	return append([]string{stop}, drainStopped(t, c)...)
}

// drainStopped sends vStopped until the stub has no stop left (OK).
func drainStopped(t *testing.T, c *rsp.Client) []string {
	t.Helper()
	var stops []string
	for {
		r := exchange(t, c, "vStopped")
		if r == "OK" {
			return stops
		}
		if !strings.HasPrefix(r, "T") {
			t.Fatalf("vStopped: %q, want a stop or OK", r)
		}
		stops = append(stops, r)
	}
}

var stopThreadRE = regexp.MustCompile(`thread:p([0-9a-f]+)\.([0-9a-f]+);`)

// stoppedThread returns the thread a T stop reply names, as pPID.TID.
func stoppedThread(t *testing.T, stop string) string {
	t.Helper()
	m := stopThreadRE.FindStringSubmatch(stop)
	if m == nil {
		t.Fatalf("stop %q names no thread", stop)
	}
	return "p" + m[1] + "." + m[2]
}

// TestNonStopPackets drives non-stop mode packet by packet: '?' and
// vStopped, thread creation events as notifications, memory read while
// threads run, vCont;t for all threads, '?' reporting every stopped
// thread, and the switch back to all-stop mode.
func TestNonStopPackets(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("nonstop")})
	c := dialStub(t, s)
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	exchange(t, c, "qSupported:multiprocess+;swbreak+")
	if r := exchange(t, c, "QNonStop:1"); r != "OK" {
		t.Fatalf("QNonStop:1: %q", r)
	}
	if r := exchange(t, c, "?"); !strings.HasPrefix(r, "T05") {
		t.Fatalf("'?': %q, want the stop of the program's first thread", r)
	}
	if got := drainStopped(t, c); len(got) != 0 {
		t.Fatalf("'?' then vStopped: %q, want no more stops", got)
	}
	path := prog("nonstop")
	hit := processSymbolAddr(t, s.pid, path, "hit")
	counter, _ := elfSymbol(t, path, "counters", elf.STT_OBJECT)
	counter += loadBase(t, s.pid, path)
	exchange(t, c, "QThreadEvents:1")
	exchange(t, c, fmt.Sprintf("Hgp%x.%x", s.pid, s.pid)) // as gdb does: the process Z0 is for
	exchange(t, c, fmt.Sprintf("Z0,%x,1", hit))
	if r := exchange(t, c, "vCont;c"); r != "OK" {
		t.Fatalf("vCont;c: %q, want OK", r)
	}

	// Each new thread is reported, stopped, and continued; then one
	// stops at the breakpoint.
	created, hitter := 0, ""
	for hitter == "" {
		for _, stop := range nonStopStops(t, c) {
			switch {
			case strings.Contains(stop, "create:"):
				created++
				exchange(t, c, "vCont;c:"+stoppedThread(t, stop))
			case strings.Contains(stop, "swbreak:"):
				hitter = stoppedThread(t, stop)
			default:
				t.Fatalf("stop %q, want a thread's creation or the breakpoint", stop)
			}
		}
	}

	// The counters move while the threads run: read twice.
	read := func() string { return exchange(t, c, fmt.Sprintf("m%x,8", counter)) }
	first := read()
	deadline := time.Now().Add(gdbTimeout)
	for read() == first {
		if time.Now().After(deadline) {
			t.Fatal("counters[0] does not move")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// vCont;t stops every running thread, each reported with T00. (A
	// thread's creation can come later than the breakpoint hit: that
	// thread stays stopped.)
	exchange(t, c, "vCont;t")
	stopped := map[string]bool{hitter: true}
	for len(stopped) < 1+created {
		for _, stop := range nonStopStops(t, c) {
			switch {
			case strings.Contains(stop, "create:"):
				created++
			case !strings.HasPrefix(stop, "T00") && !strings.Contains(stop, "swbreak:"):
				t.Fatalf("stop %q after vCont;t, want T00 (or the breakpoint, or a creation)", stop)
			}
			stopped[stoppedThread(t, stop)] = true
		}
	}

	// '?' reports every stopped thread, the first in its reply.
	first = exchange(t, c, "?")
	all := append([]string{first}, drainStopped(t, c)...)
	reported := map[string]bool{}
	for _, stop := range all {
		reported[stoppedThread(t, stop)] = true
	}
	if len(reported) != len(stopped) {
		t.Fatalf("'?' reports %d threads %v, want the %d stopped", len(reported), all, len(stopped))
	}

	// Back to all-stop: a resume waits for its stop reply.
	exchange(t, c, fmt.Sprintf("z0,%x,1", hit))
	if r := exchange(t, c, "QNonStop:0"); r != "OK" {
		t.Fatalf("QNonStop:0: %q", r)
	}
	if err := c.Send("vCont;c"); err != nil {
		t.Fatal(err)
	}
	if err := c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Receive(); err != nil || !strings.HasPrefix(r, "T02") {
		t.Fatalf("all-stop vCont;c and interrupt: %q, %v; want T02", r, err)
	}
}

// TestNonStopConnectAttached: gdb connects in non-stop mode to a stub
// that attached to a multi-threaded program (procgdb --attach, as the
// --proc-dir daemon does too). One thread is reported stopped and the
// others run on, as with gdbserver: gdb 13 fails an internal assertion
// when it connects to several threads stopped that way.
func TestNonStopConnectAttached(t *testing.T) {
	prepare(t)
	p := startProcess(t, "nonstop")
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("nonstop")})
	g := startMI(t, prog("nonstop"))
	g.run("-gdb-set mi-async on", "done")
	g.run("-gdb-set non-stop on", "done")
	g.run("-target-select remote "+s.target, "connected")
	states := g.threadStates()
	stopped := 0
	for _, st := range states {
		if st == "stopped" {
			stopped++
		}
	}
	if len(states) < 7 || stopped != 1 {
		t.Fatalf("thread states %v, want one of seven stopped", states)
	}
	g.countersMove()
	g.run("-exec-interrupt --all", "done")
	g.allStopped()
	g.run("-target-detach", "done")
}

// TestNonStopForks: in non-stop mode through extended-remote, gdb follows
// both sides of a fork (detach-on-fork off): the child stops at a
// breakpoint while the parent runs on, in its wait for the child, and each
// process's exit concerns it alone.
func TestNonStopForks(t *testing.T) {
	prepare(t)
	for _, mode := range []string{"fork", "vfork"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "vfork" {
				onlyProcgdb(t, "a vfork child's exit in non-stop mode (gdbserver 13 never reports it)")
			}
			s := startMulti(t, stubOptions{})
			g := startMI(t, prog("forker"))
			g.run("-gdb-set mi-async on", "done")
			g.run("-gdb-set non-stop on", "done")
			g.run("-gdb-set detach-on-fork off", "done")
			g.run("-target-select extended-remote "+s.target, "connected")
			g.run("-gdb-set remote exec-file "+prog("forker"), "done")
			g.run("-exec-arguments "+mode, "done")
			g.run("-break-insert child_work", "done")
			g.run("-exec-run", "running")
			g.expect(`^=thread-group-started,id="i2"`)
			g.expect(`^\*stopped,reason="breakpoint-hit",.*func="child_work"`)
			r := g.run("-list-thread-groups", "done")
			if !regexp.MustCompile(`id="i1",type="process",pid="\d+"`).MatchString(r) {
				t.Fatalf("the parent is gone: %s", r)
			}
			g.run("-break-delete", "done")
			g.run("-exec-continue --thread-group i2", "running")
			g.expect(`^=thread-group-exited,id="i2",exit-code="03"`)
			// The parent ran on meanwhile, in its wait for the child.
			g.expect(`^=thread-group-exited,id="i1",exit-code="015"`)
		})
	}
}
