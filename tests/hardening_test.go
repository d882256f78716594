//go:build linux

package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"procgdb/internal/corpus"
)

// The hardening tests (issue: hostile input, vanishing peers, and a
// debugged process that is never harmed). They debug testdata/checksum.c,
// which prints a checksum of its work and checks that the code of every
// object it loaded is in memory as on disk.

// checksumRounds is how many rounds of work checksum.c does in these
// tests.
const checksumRounds = 6

var checksumRE = regexp.MustCompile(`^checksum=([0-9a-f]{16}) text=(\S+)`)

// expectedChecksum runs checksum.c without a debugger and returns what it
// prints for rounds.
func expectedChecksum(t *testing.T, rounds int) string {
	t.Helper()
	out, err := exec.Command(prog("checksum"), strconv.Itoa(rounds)).CombinedOutput()
	if err != nil {
		t.Fatalf("checksum %d: %v\n%s", rounds, err, out)
	}
	m := checksumRE.FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil || m[2] != "ok" {
		t.Fatalf("checksum %d printed %q", rounds, out)
	}
	return m[1]
}

// startWaiting starts checksum.c in its waiting mode and returns it once it
// is ready to be attached to.
func startWaiting(t *testing.T, rounds int) *process {
	t.Helper()
	return startReady(t, "checksum", strconv.Itoa(rounds), "wait")
}

// finishes checks that the program runs to its end with the checksum
// want and its code intact, waking it with SIGUSR1 in case nobody set go.
func (p *process) finishes(t *testing.T, want string) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("the program did not finish within %v (state: %s)", exitTimeout, procState(p.cmd.Process.Pid))
	}
	_, m, err := p.out.wait(0, checksumRE, time.Second, p.done)
	if err != nil {
		t.Fatalf("the program printed no checksum (%v); it ended with %v", err, p.err)
	}
	if m[1] != want || m[2] != "ok" || p.err != nil {
		t.Errorf("the program printed checksum=%s text=%s and ended with %v; want checksum=%s text=ok, exit 0", m[1], m[2], p.err, want)
	}
}

// procState returns the State and TracerPid lines of /proc/PID/status.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "State:") || strings.HasPrefix(l, "TracerPid:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

// tracerPid returns the TracerPid of process pid, 0 if it is gone.
func tracerPid(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`(?m)^TracerPid:\s*(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no TracerPid in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// checkText compares the executable file-backed mappings of process pid
// with their files: an int3 left behind (or any other change) is an error.
func checkText(t *testing.T, pid int) {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	checked := 0
	for _, l := range strings.Split(strings.TrimSpace(string(maps)), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.Contains(f[1], "x") || !strings.HasPrefix(f[5], "/") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		off, _ := strconv.ParseUint(f[2], 16, 64)
		file, err := os.ReadFile(f[5])
		if err != nil {
			t.Fatal(err)
		}
		n := min(end-start, uint64(len(file))-min(off, uint64(len(file))))
		got := make([]byte, n)
		if _, err := mem.ReadAt(got, int64(start)); err != nil {
			t.Fatalf("read %s of %d: %v", f[0], pid, err)
		}
		if want := file[off : off+n]; !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s at %#x (%#x in the file): %#02x in memory, %#02x on disk", f[5], start+uint64(i), off+uint64(i), got[i], want[i])
					break
				}
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatalf("no executable mappings in /proc/%d/maps", pid)
	}
}

// gdbRun is a gdb batch session started in the background.
type gdbRun struct{ *gdbProc }

// startGDB starts gdb on file with the commands cmds (the first one
// connects), each preceded by the transcript marker of its index. Its
// sysroot is the local one, so that gdb does not read libraries through
// the stub.
func startGDB(t *testing.T, file string, cmds ...string) *gdbRun {
	t.Helper()
	args := gdbBatchArgs(file, []string{"set sysroot /"}, cmds)
	return &gdbRun{startGDBProc(t, "gdb session", args, false)}
}

// waitMarker waits until gdb has printed the marker of command n, and
// reports false if gdb ended first.
func (g *gdbRun) waitMarker(t *testing.T, n int) bool {
	t.Helper()
	re := regexp.MustCompile("^" + regexp.QuoteMeta(fmt.Sprintf(markerFmt, n)) + "$")
	_, _, err := g.out.wait(0, re, gdbTimeout, g.done)
	if errors.Is(err, errStopped) {
		return false
	}
	if err != nil {
		t.Fatalf("gdb: marker %d: %v", n, err)
	}
	return true
}

// wait waits for gdb to end by itself.
func (g *gdbRun) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-g.done:
	case <-time.After(gdbTimeout):
		t.Fatalf("gdb did not finish within %v", gdbTimeout)
	}
	return g.out.String()
}

// hardeningScript is a session of breakpoints, steps (over breakpoints
// too), a software watchpoint and continues over checksum.c, after the
// connection (and attach) commands. The client is killed after each of
// its markers in turn. It ends with a detach rather than a continue to
// the end: the program checks its code as it exits, and gdb, while
// connected, keeps a breakpoint of its own in the dynamic linker.
func hardeningScript(t *testing.T) []string {
	counterLine := lineOf(t, "checksum.c", "counter")
	return []string{
		"break work_round",
		"set var go = 1",
		"continue",
		"next",
		"step",
		"finish",
		"continue",
		"stepi",
		"nexti",
		"break mix",
		"continue",
		"delete 2",
		"set can-use-hw-watchpoints 0",
		"watch counter",
		"continue",
		"delete 3",
		"continue",
		"info registers rip",
		"x/4xb $pc",
		fmt.Sprintf("tbreak checksum.c:%d", counterLine),
		"continue",
		"up",
		"next",
		"continue",
		"continue",
		"delete",
		"detach",
	}
}

// TestHardeningScript runs the whole script once, without killing gdb:
// it checks that the script does what the kill tests assume (a stop at
// each breakpoint, the watchpoint triggering) and that the program ends
// right.
func TestHardeningScript(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "the hardening script")
	canAttach(t)
	want := expectedChecksum(t, checksumRounds)
	p := startWaiting(t, checksumRounds)
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("checksum"), once: true})
	tr := runGDB(t, "", "set sysroot /", append([]string{"file " + prog("checksum"), "target remote " + s.target}, hardeningScript(t)...)...)
	tr.match("continue", `Breakpoint 1, work_round \(round=0\)`, 1)
	tr.match("continue", `Breakpoint 2, mix \(`, 3)
	tr.match("continue", `(?s)Watchpoint 3: counter\s+Old value = 1\s+New value = 2`, 4)
	tr.match("continue", `Breakpoint 1, work_round \(round=4\)`, 8)
	tr.match("detach", `\[Inferior 1 \(process \d+\) detached\]`)
	p.finishes(t, want)
}

// TestKillClient kills gdb with SIGKILL at each moment of the script (after
// each command's marker) and checks the program is not harmed: with
// "--once --attach" procgdb detaches and the program finishes with the
// right checksum and its code intact; with --multi procgdb keeps the
// process, stopped and with its code intact, for the next client, which
// runs it to the right result; with "target remote | procgdb -" (stdio)
// procgdb is left with a closed pipe and must clean up as with --once.
func TestKillClient(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "killing the client at every moment")
	canAttach(t)
	want := expectedChecksum(t, checksumRounds)
	script := hardeningScript(t)
	for _, mode := range []string{"once", "multi", "stdio"} {
		t.Run(mode, func(t *testing.T) {
			prepare(t)
			killed := make(chan bool, len(script)+2)
			// Moment 0 is during the connection (and, with --multi, the
			// attach); moment n during command n of the script.
			for n := 0; n <= len(script); n++ {
				t.Run(fmt.Sprintf("at%02d", n), func(t *testing.T) {
					prepare(t)
					switch mode {
					case "once":
						killed <- killOnce(t, script, n, want)
					case "multi":
						killed <- killMulti(t, script, n, want)
					case "stdio":
						killed <- killStdio(t, script, n, want)
					}
				})
			}
			t.Cleanup(func() {
				close(killed)
				k := 0
				for ok := range killed {
					if ok {
						k++
					}
				}
				if k < 20 && !t.Failed() {
					t.Errorf("gdb was killed while alive at %d moments, want at least 20", k)
				}
			})
		})
	}
}

// killOnce kills gdb at moment n of a session with "procgdb --once
// --attach" and checks the program. It reports whether gdb was still
// running when it was killed.
func killOnce(t *testing.T, script []string, n int, want string) bool {
	p := startWaiting(t, checksumRounds)
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("checksum"), once: true})
	g := startGDB(t, prog("checksum"), append([]string{"target remote " + s.target}, script...)...)
	alive := g.waitMarker(t, n)
	if n == 0 {
		// During the connection, but not before it: procgdb --once
		// waits for its one client for as long as it takes.
		s.waitStderr(`^Remote debugging from host`)
	}
	g.kill()
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("procgdb --once exited with %v after its client was killed", err)
	}
	p.finishes(t, want)
	return alive
}

// killStdio kills gdb, and only gdb, at moment n of a session with
// "target remote | procgdb - --attach PID": procgdb, left with a closed
// pipe, must clean up as for a lost connection, and the program finish
// with the right checksum and intact code.
func killStdio(t *testing.T, script []string, n int, want string) bool {
	p := startWaiting(t, checksumRounds)
	connect := fmt.Sprintf("target remote | %s - --attach %d", suite.stubPath, p.cmd.Process.Pid)
	g := startGDB(t, prog("checksum"), append([]string{connect}, script...)...)
	alive := g.waitMarker(t, n)
	if n == 0 {
		// Once procgdb has attached: killed before, it never traces.
		waitTraced(t, p.cmd.Process.Pid)
	}
	_ = syscall.Kill(g.cmd.Process.Pid, syscall.SIGKILL)
	p.finishes(t, want)
	return alive
}

// waitTraced waits until process pid has a tracer.
func waitTraced(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for tracerPid(t, pid) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("process %d not traced after %v", pid, readyTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killMulti kills gdb at moment n of a session with an extended-remote
// server that attached for it, checks that the process is left stopped
// with its code as on disk, and has a second client run it on to a
// breakpoint and detach; the program then finishes with the right result.
func killMulti(t *testing.T, script []string, n int, want string) bool {
	p := startWaiting(t, checksumRounds)
	pid := p.cmd.Process.Pid
	s := startStub(t, stubOptions{multi: true})
	cmds := append([]string{"target extended-remote " + s.target, fmt.Sprintf("attach %d", pid)}, script...)
	g := startGDB(t, prog("checksum"), cmds...)
	// Moment n is the marker of script command n, which is command n+1
	// here; moment 0 is the marker of the attach.
	alive := g.waitMarker(t, n+1)
	g.kill()
	// procgdb has dealt with the disconnect once it says so.
	s.waitStderr(`^Remote side has terminated connection`)
	if tracerPid(t, pid) == 0 {
		// The client's D was served before it died, or it died before
		// the attach: the program runs, or waits for go, which
		// finishes sets.
		p.finishes(t, want)
		return alive
	}
	checkText(t, pid)
	if st := procState(pid); !strings.Contains(st, "(tracing stop)") {
		t.Errorf("process left by the client: %s, want it stopped", st)
	}
	cmds = []string{"target extended-remote " + s.target}
	// The program checks its code as it exits, which it does once
	// detached: gdb keeps a breakpoint of its own in the dynamic linker.
	cmds = append(cmds, "set var go = 1", "break work_round", "continue", "delete", "detach")
	g2 := startGDB(t, prog("checksum"), cmds...)
	out := g2.wait(t)
	if !strings.Contains(out, "Breakpoint 1, work_round (round=") || !strings.Contains(out, "detached]") {
		t.Errorf("the second client did not run the program to a breakpoint and detach:\n%s", out)
	}
	p.finishes(t, want)
	return alive
}

// TestSignalWhileStopped sends SIGTERM (and SIGINT) to procgdb while the
// attached program is stopped at a breakpoint, and while it runs: procgdb
// removes its breakpoints, detaches and exits, and the program runs on to
// the right result.
func TestSignalWhileStopped(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's clean-up on signals")
	canAttach(t)
	want := expectedChecksum(t, checksumRounds)
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		cmds  []string
		multi bool // the server is --multi and attaches for gdb
	}{
		{"SIGTERM at a breakpoint, --multi", syscall.SIGTERM, []string{"break mix", "set var go = 1", "continue"}, true},
		{"SIGTERM at a breakpoint", syscall.SIGTERM, []string{"break mix", "set var go = 1", "continue"}, false},
		{"SIGINT at a breakpoint", syscall.SIGINT, []string{"break work_round", "set var go = 1", "continue", "next"}, false},
		{"SIGTERM while running", syscall.SIGTERM, []string{"break exit", "continue"}, false},
		{"SIGTERM at a watchpoint", syscall.SIGTERM, []string{"set var go = 1", "set can-use-hw-watchpoints 0", "break work_round", "continue", "watch counter", "continue"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prepare(t)
			p := startWaiting(t, checksumRounds)
			var s *stub
			var cmds []string
			if tc.multi {
				s = startStub(t, stubOptions{multi: true})
				cmds = []string{"target extended-remote " + s.target, fmt.Sprintf("attach %d", p.cmd.Process.Pid)}
			} else {
				s = startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("checksum"), once: true})
				cmds = []string{"target remote " + s.target}
			}
			cmds = append(cmds, tc.cmds...)
			// The last command keeps gdb busy (or, with "continue" and
			// no breakpoint that will be hit, waiting).
			cmds = append(cmds, "shell sleep 60")
			g := startGDB(t, prog("checksum"), cmds...)
			if tc.name == "SIGTERM while running" {
				// gdb's "continue" never ends: wait for its marker,
				// then for the program to leave its tracing stop.
				if !g.waitMarker(t, len(cmds)-2) {
					t.Fatal("gdb ended early")
				}
				waitRunning(t, p.cmd.Process.Pid)
			} else if !g.waitMarker(t, len(cmds)-1) {
				t.Fatal("gdb ended early")
			}
			if err := s.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if err := s.waitExit(exitTimeout); err != nil {
				t.Errorf("procgdb exited with %v after %v", err, tc.sig)
			}
			g.kill()
			p.finishes(t, want)
		})
	}
}

// waitRunning waits until process pid is out of its tracing stop.
func waitRunning(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for strings.Contains(procState(pid), "tracing stop") {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still stopped after %v: %s", pid, readyTimeout, procState(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestManyClients runs 20 gdb clients at once against one --multi server,
// each running its own program, stepping it and letting it go (it checks
// its code as it exits, and a connected gdb keeps a breakpoint in the
// dynamic linker): every program prints the right checksum.
func TestManyClients(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "clients at once")
	const clients = 20
	wants := map[int]string{}
	for r := 2; r <= 4; r++ {
		wants[r] = expectedChecksum(t, r)
	}
	s := startStub(t, stubOptions{multi: true})
	gs := make([]*gdbRun, clients)
	for i := range gs {
		rounds := 2 + i%3
		gs[i] = startGDB(t, prog("checksum"),
			"target extended-remote "+s.target,
			"set remote exec-file "+prog("checksum"),
			"break work_round",
			fmt.Sprintf("run %d", rounds),
			"next",
			"step",
			"stepi",
			"continue",
			"delete",
			"detach",
		)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*gdbTimeout)
	defer cancel()
	for i, g := range gs {
		select {
		case <-g.done:
		case <-ctx.Done():
			t.Fatalf("client %d did not finish in time", i)
		}
		out := g.out.String()
		if !strings.Contains(out, "Breakpoint 1, work_round (round=0)") || !strings.Contains(out, "Breakpoint 1, work_round (round=1)") || !strings.Contains(out, "detached]") {
			t.Errorf("client %d:\n%s", i, out)
		}
	}
	// Each program, let go, prints its checksum on procgdb's stdout.
	okRE := regexp.MustCompile(`^checksum=[0-9a-f]{16} text=ok$`)
	if err := s.stdout.waitCount(okRE, clients, exitTimeout, s.done); err != nil {
		t.Errorf("procgdb's stdout: %v", err)
	}
	got := map[string]int{}
	for _, l := range strings.Split(s.stdout.String(), "\n") {
		if m := checksumRE.FindStringSubmatch(l); m != nil && m[2] == "ok" {
			got[m[1]]++
		}
	}
	for r, sum := range wants {
		if n := (clients - (r - 2) + 2) / 3; got[sum] != n {
			t.Errorf("%d programs of %d rounds printed checksum=%s text=ok, want %d; output:\n%s", got[sum], r, sum, n, s.stdout)
		}
	}
}

// TestHostileCorpus replays rsp/testdata/hostile-packets.txt against
// procgdb debugging a live process: every packet gets the empty reply or an
// error reply (F-1,errno for vFile), every bad packet '-', and the session
// answers '?' with the same stop after each one. The process must then
// still run to the right result.
func TestHostileCorpus(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "the hostile-packet corpus")
	entries, err := corpus.Parse("../rsp/testdata/hostile-packets.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := expectedChecksum(t, 2)
	s := startStub(t, stubOptions{prog: prog("checksum"), args: []string{"2"}})
	c := dialStub(t, s)
	features := "qSupported:multiprocess+;swbreak+;hwbreak+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386"
	if r := exchange(t, c, features); !strings.HasPrefix(r, "PacketSize=") {
		t.Fatalf("qSupported: %q", r)
	}
	stop := exchange(t, c, "?")
	if !strings.HasPrefix(stop, "T05") {
		t.Fatalf("'?' = %q", stop)
	}
	errRE := regexp.MustCompile(`^(E[0-9a-fA-F]{2}|E\..*|F-1,[0-9a-f]+)$`)
	for _, e := range entries {
		switch e.Kind {
		case corpus.Packet:
			if r := exchange(t, c, string(e.Data)); r != "" && !errRE.MatchString(r) {
				t.Errorf("line %d %.60q: reply %.60q, want empty or an error", e.Line, e.Data, r)
			}
		case corpus.Nak:
			if err := c.WriteRaw(e.Data); err != nil {
				t.Fatal(err)
			}
			if b, err := c.ReadAck(); err != nil || b != '-' {
				t.Errorf("line %d %.60q: ack %q, %v; want '-'", e.Line, e.Data, b, err)
			}
		case corpus.Raw:
			if err := c.WriteRaw(e.Data); err != nil {
				t.Fatal(err)
			}
		}
		if r := exchange(t, c, "?"); r != stop {
			t.Fatalf("line %d %.60q: then '?' = %.60q, want %.60q", e.Line, e.Data, r, stop)
		}
	}
	// The corpus's lone interrupt byte is an interrupt like any other:
	// the next resume reports it, once.
	if r := exchange(t, c, "vCont;c"); !strings.HasPrefix(r, "T02") {
		t.Errorf("vCont;c after the corpus: %q, want the interrupt's SIGINT", r)
	}
	// The process is unharmed: it runs to its end.
	if r := exchange(t, c, "vCont;c"); !strings.HasPrefix(r, "W00") {
		t.Errorf("vCont;c after the corpus: %q, want W00", r)
	}
	if _, m, err := s.stdout.wait(0, checksumRE, exitTimeout, s.done); err != nil || m[1] != want || m[2] != "ok" {
		t.Errorf("the program printed %q (%v), want checksum=%s text=ok", m, err, want)
	}
}

// TestClientsNotBlocked: on a --multi server, a client that sends half a
// packet and stalls, one that floods requests and never reads the replies,
// and one that sends an over-long packet hold up no other client.
func TestClientsNotBlocked(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "clients at once")
	s := startStub(t, stubOptions{multi: true})
	stalled := dialStub(t, s)
	if err := stalled.WriteRaw([]byte("$qSupported:multipro")); err != nil {
		t.Fatal(err)
	}
	flooder := dialStub(t, s)
	go func() {
		for range 100000 {
			if flooder.Send("m0,100000") != nil {
				return
			}
		}
	}()
	long := dialStub(t, s)
	go func() { _ = long.Send("X0,0:" + strings.Repeat("a", 8<<20)) }()

	// Meanwhile other clients run programs to their end.
	want := expectedChecksum(t, 2)
	for i := range 3 {
		c := dialStub(t, s)
		if err := c.SetDeadline(time.Now().Add(readyTimeout)); err != nil {
			t.Fatal(err)
		}
		exchange(t, c, "qSupported:multiprocess+")
		exchange(t, c, "!")
		run := fmt.Sprintf("vRun;%x;%x", prog("checksum"), "2")
		if r := exchange(t, c, run); !strings.HasPrefix(r, "T05") {
			t.Fatalf("client %d: %s: %q", i, run, r)
		}
		if r := exchange(t, c, "vCont;c"); !strings.HasPrefix(r, "W00") {
			t.Fatalf("client %d: vCont;c: %q, want W00", i, r)
		}
		c.Close()
	}
	// The output may reach the test a little after the exit.
	okRE := regexp.MustCompile(`^checksum=` + want + ` text=ok$`)
	if err := s.stdout.waitCount(okRE, 3, exitTimeout, s.done); err != nil {
		t.Errorf("procgdb's stdout: %v", err)
	}
	if n := s.stdout.count(okRE); n != 3 {
		t.Errorf("%d programs printed the right checksum, want 3:\n%s", n, s.stdout)
	}
}

// vContStepRE matches procgdb's --remote-debug line for a vCont packet
// with a step action from the client.
var vContStepRE = regexp.MustCompile(`dir=in packet="?vCont(;[^;]+)*;s(:|;|"|$)`)

// TestProcessKilledFromOutside kills the debugged program with SIGKILL
// behind procgdb's back while it is stopped at a breakpoint, while it runs,
// and while gdb single-steps it for a software watchpoint: gdb hears of
// it as the program's end, and procgdb exits.
func TestProcessKilledFromOutside(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "a program killed from outside")
	for _, tc := range []struct {
		name string
		cmds []string // after connecting; the last one resumes
		// stopped: the program is killed once the last command has
		// stopped it, while gdb waits in a shell command before it
		// continues; otherwise while the last command runs.
		stopped bool
	}{
		{"stopped", []string{"break mix", "set var go = 1", "continue"}, true},
		{"running", []string{"break exit", "continue"}, false},
		{"stepping", []string{"set var go = 1", "break work_round", "continue", "delete", "set can-use-hw-watchpoints 0", "watch go", "continue"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prepare(t)
			o := stubOptions{prog: prog("checksum"), args: []string{"1000", "wait"}, once: true}
			if tc.name == "stepping" {
				// Its packet log shows when gdb single-steps.
				o.flags = []string{"--remote-debug"}
			}
			s := startStub(t, o)
			cmds := append([]string{"target remote " + s.target}, tc.cmds...)
			killed := filepath.Join(t.TempDir(), "killed")
			if tc.stopped {
				// gdb waits, the program stopped, until it is killed.
				cmds = append(cmds, fmt.Sprintf("shell while [ ! -e %s ]; do sleep 0.01; done", killed), "continue")
			}
			cmds = append(cmds, "info inferiors")
			last := len(cmds) - 2
			if tc.stopped {
				last-- // the shell's
			}
			g := startGDB(t, prog("checksum"), cmds...)
			if !g.waitMarker(t, last) {
				t.Fatal("gdb ended early")
			}
			from := s.stderr.lineCount()
			if tc.name == "stepping" {
				// The last command's marker is printed before gdb
				// sends anything for it: a step from here on is the
				// watchpoint's.
				if _, _, err := s.stderr.wait(from, vContStepRE, gdbTimeout, s.done); err != nil {
					t.Fatalf("gdb does not single-step the program: %v", err)
				}
			} else if !tc.stopped {
				waitRunning(t, s.pid)
			}
			if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(killed, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			out := g.wait(t)
			if !strings.Contains(out, "Program terminated with signal SIGKILL") {
				t.Errorf("gdb did not report the program killed:\n%s", out)
			}
			if err := s.waitExit(exitTimeout); err != nil {
				t.Errorf("procgdb exited with %v", err)
			}
		})
	}
}
