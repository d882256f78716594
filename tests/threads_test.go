//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestThreads debugs testdata/threads.c: four threads each call worker(id)
// once before main calls all_started(), when all five threads are alive.
// Each worker call must be reported once, by its own thread, whatever order
// the threads run in.
func TestThreads(t *testing.T) {
	prepare(t)
	workerBody := lineOf(t, "threads.c", "worker-body")
	s := startStub(t, stubOptions{prog: prog("threads")})
	tr := s.gdb(
		"break worker",
		"continue", "continue", "continue", "continue",
		"break all_started",
		"continue",
		"info threads",
		"thread apply all bt 1",
		"continue",
	)

	hitRE := regexp.MustCompile(`(?m)^Thread (\d+) .*hit Breakpoint 1, worker \(id=(\d)\) at \S*threads\.c:(\d+)$`)
	threadOf := map[string]string{} // worker id -> gdb thread number
	for n := 1; n <= 4; n++ {
		m := hitRE.FindStringSubmatch(tr.out("continue", n))
		if m == nil {
			t.Errorf("continue #%d: no worker breakpoint hit:\n%s", n, indent(tr.out("continue", n)))
			continue
		}
		if m[3] != fmt.Sprint(workerBody) {
			t.Errorf("continue #%d: worker stopped at line %s, want %d", n, m[3], workerBody)
		}
		if prev, ok := threadOf[m[2]]; ok {
			t.Errorf("continue #%d: worker(id=%s) hit again (threads %s and %s)", n, m[2], prev, m[1])
		}
		threadOf[m[2]] = m[1]
	}
	threads := map[string]bool{}
	for _, th := range threadOf {
		threads[th] = true
	}
	if len(threadOf) == 4 && len(threads) != 4 {
		t.Errorf("worker breakpoint hits by worker id -> thread: %v; want four distinct threads", threadOf)
	}

	tr.match("continue", `(?m)^Thread 1 .*hit Breakpoint 2, all_started \(\)`, 5)
	var listed []string
	for _, l := range scanLines(tr.out("info threads")) {
		if m := regexp.MustCompile(`^\*?\s+(\d+)\s+Thread `).FindStringSubmatch(l); m != nil {
			listed = append(listed, m[1])
		}
	}
	sort.Strings(listed)
	if strings.Join(listed, " ") != "1 2 3 4 5" {
		t.Errorf("info threads lists threads %v, want 1 2 3 4 5:\n%s", listed, indent(tr.out("info threads")))
	}
	tr.match("info threads", `(?m)^\* 1\s+Thread .* all_started \(\)`)
	tr.match("continue", exitedRE(0), 6)
}

// TestFairEvents: two threads of testdata/tightloop.c hit a breakpoint at
// once, whenever they run, so every stop finds an event for each of them;
// the stub must report one or the other, not always the same (gdbserver
// picks one at random). Each round inserts the breakpoint, continues to
// it, deletes it (which drops the other thread's event), and continues and
// interrupts to start afresh. Both threads must be reported in 20 rounds.
func TestFairEvents(t *testing.T) {
	prepare(t)
	spin := lineOf(t, "tightloop.c", "spin")
	s := startStub(t, stubOptions{prog: prog("tightloop")})
	g := startMI(t, prog("tightloop"))
	g.run("-gdb-set mi-async on", "done")
	g.run("-target-select remote "+s.target, "connected")
	hitRE := `^\*stopped,reason="breakpoint-hit",.*thread-id="(\d+)"`
	seen := map[string]int{}
	const rounds = 20
	for range rounds {
		g.run(fmt.Sprintf("-break-insert tightloop.c:%d", spin), "done")
		g.run("-exec-continue", "running")
		m := regexp.MustCompile(hitRE).FindStringSubmatch(g.expect(hitRE))
		seen[m[1]]++
		g.run("-break-delete", "done")
		g.run("-exec-continue", "running")
		g.expect(`^\*running,thread-id="all"`)
		g.run("-exec-interrupt", "done")
		g.expect(`^\*stopped,reason="signal-received",signal-name="SIGINT"`)
	}
	t.Logf("breakpoint reports by thread: %v", seen)
	if len(seen) != 2 {
		t.Errorf("in %d rounds the breakpoint was reported for threads %v, want both spinning threads", rounds, seen)
	}
}
