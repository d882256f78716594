//go:build linux

package tests

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"procgdb/rsp"
)

// Threads and processes that come and go while gdb debugs them: a main
// thread that exits before the others, threads made with a raw clone, a
// fork child that exits, and a fork that gdb has not heard of yet when it
// detaches.

// listedThreads returns the gdb thread numbers and target ids that "info
// threads" printed, in order.
func listedThreads(out string) (nums, ids []string) {
	re := regexp.MustCompile(`^\*?\s+(\d+)\s+(Thread \S+|LWP \d+|process \d+)`)
	for _, l := range scanLines(out) {
		if m := re.FindStringSubmatch(l); m != nil {
			nums = append(nums, m[1])
			ids = append(ids, m[2])
		}
	}
	return nums, ids
}

// TestLeaderExit debugs testdata/leaderexit.c, whose main thread calls
// pthread_exit while the second thread lives on. Once the main thread is
// gone, gdb must no longer see it: info threads lists the second thread
// alone, every thread's registers can be read, and the process exit is
// reported once, when the second thread ends it.
func TestLeaderExit(t *testing.T) {
	prepare(t)
	gone := lineOf(t, "leaderexit.c", "leader-gone")
	s := startStub(t, stubOptions{prog: prog("leaderexit")})
	tr := s.gdb(
		"break both_alive",
		"break leader_gone",
		"continue",
		"info threads",
		"continue",
		"info threads",
		"thread apply all bt 1",
		"print calls",
		"continue",
	)
	tr.match("continue", `(?m)^Thread 2 .*hit Breakpoint 1, both_alive \(\)`)
	if nums, _ := listedThreads(tr.out("info threads")); len(nums) != 2 {
		t.Errorf("info threads with both threads alive lists %v, want 2 threads", nums)
	}

	tr.match("continue", fmt.Sprintf(`(?m)^Thread 2 .*hit Breakpoint 2, leader_gone \(\) at \S*leaderexit\.c:%d$`, gone), 2)
	threads := tr.out("info threads", 2)
	nums, ids := listedThreads(threads)
	if len(nums) != 1 || nums[0] != "2" {
		t.Errorf("info threads after the main thread exited lists threads %v (%v), want thread 2 alone", nums, ids)
	}
	tr.noMatch("info threads", `Could not read registers|remote failure reply`, 2)
	tr.match("info threads", `(?m)^\*\s+2\s+Thread .* leader_gone \(\)`, 2)
	bt := tr.out("thread apply all bt 1")
	if n := len(regexp.MustCompile(`(?m)^Thread \d+ \(`).FindAllString(bt, -1)); n != 1 {
		t.Errorf("thread apply all bt shows %d threads, want 1", n)
	}
	tr.noMatch("thread apply all bt 1", `Could not read registers|remote failure reply|Cannot`)
	tr.match("print calls", `^\$\d+ = 1$`)
	tr.match("continue", `\[Inferior 1 \(process \d+\) exited with code 05\]`, 3)
}

// threadList returns the thread ids qfThreadInfo and qsThreadInfo list.
func threadList(t *testing.T, c *rsp.Client) []string {
	t.Helper()
	var ids []string
	for r := exchange(t, c, "qfThreadInfo"); r != "l"; r = exchange(t, c, "qsThreadInfo") {
		if !strings.HasPrefix(r, "m") {
			t.Fatalf("thread list: got %q", r)
		}
		ids = append(ids, strings.Split(r[1:], ",")...)
	}
	return ids
}

// eventStub starts program name under the stub, connects procgdb's
// client, negotiates features and sends each setup packet, which must
// get OK.
func eventStub(t *testing.T, name, features string, setup ...string) (*stub, *rsp.Client) {
	t.Helper()
	s := startStub(t, stubOptions{prog: prog(name)})
	c := dialStub(t, s)
	exchange(t, c, features)
	for _, p := range setup {
		if r := exchange(t, c, p); r != "OK" {
			t.Fatalf("%s: got %q", p, r)
		}
	}
	return s, c
}

// continueToExit resumes the process with vCont;c until it exits, and returns
// every stop reply, the exit last.
func continueToExit(t *testing.T, c *rsp.Client, each func(reply string)) []string {
	t.Helper()
	var replies []string
	for range 100 {
		r := exchange(t, c, "vCont;c")
		replies = append(replies, r)
		if strings.HasPrefix(r, "W") || strings.HasPrefix(r, "X") {
			return replies
		}
		if each != nil {
			each(r)
		}
	}
	t.Fatalf("no exit after 100 resumes: %q", replies)
	return nil
}

// TestLeaderExitEvents runs testdata/leaderexit.c with thread events on,
// for every thread (QThreadEvents:1) or for the main thread alone (gdb
// 15's QThreadOptions): the main thread's exit is a w stop reply that
// names it, after which the thread list has only the second thread, and
// the process's W (with the second thread's exit code) comes once, last.
// The second thread's exit is a w reply only with QThreadEvents.
// gdbserver 13 reports no exit of a leader.
func TestLeaderExitEvents(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "the exit of a main thread as a thread event")
	for _, every := range []bool{true, false} {
		name := "QThreadEvents"
		if !every {
			name = "QThreadOptions"
		}
		t.Run(name, func(t *testing.T) {
			prepare(t)
			s, c := eventStub(t, "leaderexit", gdb15QSupported)
			leader := fmt.Sprintf("p%x.%x", s.pid, s.pid)
			setup := "QThreadEvents:1"
			if !every {
				setup = "QThreadOptions;2:" + leader
			}
			if r := exchange(t, c, setup); r != "OK" {
				t.Fatalf("%s: got %q", setup, r)
			}
			var exits []string
			replies := continueToExit(t, c, func(r string) {
				if !strings.HasPrefix(r, "w") {
					return
				}
				exits = append(exits, r)
				if r != "w00;"+leader {
					return
				}
				ids := threadList(t, c)
				if len(ids) != 1 || ids[0] == leader {
					t.Errorf("threads after %q: %v, want the second thread alone", r, ids)
					return
				}
				if r := exchange(t, c, "Hg"+ids[0]); r != "OK" {
					t.Errorf("Hg%s: %q", ids[0], r)
				}
				if r := exchange(t, c, "g"); strings.HasPrefix(r, "E") || r == "" {
					t.Errorf("registers of %s after the main thread exited: %q", ids[0], r)
				}
			})
			want := 1
			if every {
				want = 2
			}
			if len(exits) != want || exits[0] != "w00;"+leader {
				t.Errorf("thread exits %q: want the main thread's first, %d in all", exits, want)
			}
			if last := replies[len(replies)-1]; last != fmt.Sprintf("W05;process:%x", s.pid) {
				t.Errorf("the process ended with %q, want W05 for process %x", last, s.pid)
			}
		})
	}
}

// TestRawClone debugs testdata/rawclone.c, whose new task is made with
// clone() directly and gets SIGUSR1 before the debugger can have seen it:
// as a thread of the process, and as a task of its own thread group that
// shares the memory. Either way gdb must see the new task as a thread,
// stop it with its signal, pass the signal on to it, stop it at a
// breakpoint, and let the program end normally; and kill must end the
// task with the program.
func TestRawClone(t *testing.T) {
	prepare(t)
	inClone := lineOf(t, "rawclone.c", "in-clone")
	for _, mode := range []string{"thread", "vm"} {
		for _, kill := range []bool{false, true} {
			name := mode
			if kill {
				name += "-kill"
			}
			t.Run(name, func(t *testing.T) {
				prepare(t)
				args, last := []string{mode}, "continue"
				if kill {
					args, last = append(args, "hold"), "kill"
				}
				s := startStub(t, stubOptions{prog: prog("rawclone"), args: args})
				tr := s.gdb(
					"break in_clone",
					"continue",
					"continue",
					"info threads",
					"print calls",
					last,
				)
				tr.match("continue", `(?m)^Thread 2 .*received signal SIGUSR1, User defined signal 1\.$`)
				tr.match("continue", fmt.Sprintf(`(?m)^Thread 2 .*hit Breakpoint 1, in_clone \(\) at \S*rawclone\.c:%d$`, inClone), 2)
				nums, ids := listedThreads(tr.out("info threads"))
				if len(nums) != 2 {
					t.Errorf("info threads lists %v (%v), want threads 1 and 2", nums, ids)
				}
				tr.match("info threads", `(?m)^\*\s+2\s+.* in_clone \(\)`)
				tr.match("print calls", `^\$\d+ = 0$`)
				if !kill {
					tr.match("continue", `\[Inferior 1 \(process \d+\) exited normally\]`, 3)
					return
				}
				tr.match("kill", `\[Inferior 1 \(process \d+\) killed\]`)
				for _, id := range ids {
					m := regexp.MustCompile(`^Thread \d+\.(\d+)$`).FindStringSubmatch(id)
					if m == nil {
						t.Errorf("thread %q: want Thread PID.TID", id)
						continue
					}
					tid, _ := strconv.Atoi(m[1])
					waitGone(t, tid)
				}
			})
		}
	}
}

// waitFile waits, bounded, until a file a test program writes exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(exitTimeout)
	for !fileExists(path) {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not exist after %v", path, exitTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPendingForkDetach debugs testdata/pendingfork.c: gdb steps the main
// thread with stepi while the second thread forks (or vforks), so the
// fork is most often still unreported when the step's stop is; then gdb
// detaches. The child must stay hidden until its fork is reported (gdb
// sees one inferior, and reads no registers of a process it does not
// know), and must be detached with its parent: it runs on and creates its
// file. Each mode runs a few times, since the fork comes first now and
// then, with target remote (the stub then exits) and extended-remote (the
// stub stays).
func TestPendingForkDetach(t *testing.T) {
	prepare(t)
	for _, mode := range []string{"fork", "vfork"} {
		for round := range 4 {
			extended := round%2 == 1
			t.Run(fmt.Sprintf("%s-%d", mode, round), func(t *testing.T) {
				prepare(t)
				flag := filepath.Join(t.TempDir(), "touched")
				cmds := []string{
					"break break_here",
					"continue",
					"delete",
					"set var release = 1",
					"stepi",
					"info inferiors",
					"detach",
				}
				var s *stub
				var tr *transcript
				if extended {
					s = startMulti(t, stubOptions{})
					run := fmt.Sprintf("run %s %s", mode, flag)
					cmds[1] = run
					tr = s.gdbExt(prog("pendingfork"), append([]string{"set remote exec-file " + prog("pendingfork")}, cmds...)...)
					tr.match(run, `(?m)^Thread 1 .*hit Breakpoint 1, break_here \(\)`)
				} else {
					s = startStub(t, stubOptions{prog: prog("pendingfork"), args: []string{mode, flag}})
					tr = s.gdb(cmds...)
					tr.match("continue", `(?m)^Thread 1 .*hit Breakpoint 1, break_here \(\)`)
				}
				tr.match("info inferiors", `(?m)^\*\s+1\s+process \d+`)
				tr.noMatch("info inferiors", `(?m)^\s+2\s`)
				if strings.Contains(tr.all, "packet reply is too long") || strings.Contains(tr.all, "New inferior") {
					t.Errorf("gdb saw the fork child before its fork was reported")
				}
				tr.match("detach", `\[Inferior 1 \(process \d+\) detached\]`)
				waitFile(t, flag)
				if extended {
					waitGone(t, s.launched()[0])
				} else {
					waitGone(t, s.pid)
				}
			})
		}
	}
}

// gdb15QSupported is what gdb 15 offers: QThreadOptions and error-message
// came with it.
const gdb15QSupported = "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;QThreadOptions+;no-resumed+;memory-tagging+;xmlRegisters=i386;error-message+"

// TestThreadOptions drives testdata/threads.c at packet level as gdb 15
// does with QThreadOptions (gdb 13 never sends it): the main thread asks
// for clone events, and the first new thread for its exit. Each of the
// four thread creations stops with a clone reply that names the new
// thread, stopped and known; only the first new thread's exit is a w
// reply; the other threads' exits and creations are silent, and the
// process exits normally. QThreadEvents, the all-threads switch, still
// reports every exit afterwards.
func TestThreadOptions(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "QThreadOptions (gdb 15)")
	s, c := eventStub(t, "threads", "qSupported")
	if r := exchange(t, c, gdb15QSupported); !strings.Contains(r, ";QThreadOptions=3") {
		t.Fatalf("qSupported: %q lacks QThreadOptions=3", r)
	}
	main := fmt.Sprintf("p%x.%x", s.pid, s.pid)
	if r := exchange(t, c, "QThreadOptions;1:"+main); r != "OK" {
		t.Fatalf("QThreadOptions;1:%s: %q", main, r)
	}
	cloneRE := regexp.MustCompile(`^T05thread:` + main + `;.*clone:(p[0-9a-f]+\.[0-9a-f]+);`)
	var clones, exits []string
	replies := continueToExit(t, c, func(r string) {
		if m := cloneRE.FindStringSubmatch(r); m != nil {
			child := m[1]
			clones = append(clones, child)
			if ids := threadList(t, c); !slices.Contains(ids, child) {
				t.Errorf("after %q the threads are %v, without the new one", r, ids)
			}
			if r := exchange(t, c, "Hg"+child); r != "OK" {
				t.Errorf("Hg%s: %q", child, r)
			}
			if r := exchange(t, c, "g"); strings.HasPrefix(r, "E") || r == "" {
				t.Errorf("registers of the new thread %s: %q", child, r)
			}
			if len(clones) == 1 {
				if r := exchange(t, c, "QThreadOptions;2:"+child); r != "OK" {
					t.Errorf("QThreadOptions;2:%s: %q", child, r)
				}
			}
			return
		}
		if strings.HasPrefix(r, "w") {
			exits = append(exits, r)
			return
		}
		t.Errorf("unexpected stop reply %q", r)
	})
	if len(clones) != 4 {
		t.Errorf("clone replies name %v, want 4 new threads", clones)
	}
	if len(clones) > 0 && !slices.Equal(exits, []string{"w00;" + clones[0]}) {
		t.Errorf("thread exits %q, want only that of %s, the thread that asked", exits, clones[0])
	}
	if last := replies[len(replies)-1]; last != fmt.Sprintf("W00;process:%x", s.pid) {
		t.Errorf("the process ended with %q, want W00", last)
	}
}

// TestThreadOptionsAndEvents: with QThreadEvents:1 every thread's
// creation and exit is reported, whatever QThreadOptions say, and a clone
// reply stands for the creation of the thread it names.
func TestThreadOptionsAndEvents(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "QThreadOptions (gdb 15)")
	s, c := eventStub(t, "threads", gdb15QSupported, "QThreadEvents:1")
	main := fmt.Sprintf("p%x.%x", s.pid, s.pid)
	if r := exchange(t, c, "QThreadOptions;1:"+main); r != "OK" {
		t.Fatalf("QThreadOptions;1:%s: %q", main, r)
	}
	cloneRE := regexp.MustCompile(`clone:(p[0-9a-f]+\.[0-9a-f]+);`)
	createRE := regexp.MustCompile(`^T05thread:(p[0-9a-f]+\.[0-9a-f]+);.*create:;`)
	exitRE := regexp.MustCompile(`^w00;(p[0-9a-f]+\.[0-9a-f]+)$`)
	var born, died []string
	continueToExit(t, c, func(r string) {
		for _, re := range []*regexp.Regexp{cloneRE, createRE} {
			if m := re.FindStringSubmatch(r); m != nil {
				born = append(born, m[1])
				return
			}
		}
		if m := exitRE.FindStringSubmatch(r); m != nil {
			if m[1] != main {
				died = append(died, m[1])
			}
			return
		}
		t.Errorf("unexpected stop reply %q", r)
	})
	slices.Sort(born)
	slices.Sort(died)
	if len(born) != 4 || !slices.Equal(born, died) {
		t.Errorf("threads born %v and died %v: want the same 4", born, died)
	}
}

// TestForkChildExitAtConditionalBreakpoint follows the child of a fork
// (and of a vfork) with detach-on-fork off; the child of
// testdata/forker.c ends itself at its exit_group instruction, where a
// breakpoint waits whose condition is false. The child's exit must be
// reported, and then the parent, switched to, must run on to its next
// breakpoint with the child's status, and to its end. gdb 13 steps over a
// breakpoint whose condition it evaluates itself and never finishes that
// step when the process exits during it; a stub that evaluates the
// condition (as gdbserver does) lets the child run past the breakpoint.
func TestForkChildExitAtConditionalBreakpoint(t *testing.T) {
	prepare(t)
	parentExit := lineOf(t, "forker.c", "parent-exit")
	for _, mode := range []string{"fork", "vfork"} {
		t.Run(mode, func(t *testing.T) {
			prepare(t)
			s := startMulti(t, stubOptions{})
			tr := s.gdbExt(prog("forker"), followChild(
				"break *exit_syscall if main == 0",
				fmt.Sprintf("break forker.c:%d", parentExit),
				"run "+mode,
				"inferior 1",
				"continue",
				"print status",
				"continue",
			)...)
			tr.match("run "+mode, inferiorExitedRE(2, 3))
			tr.noMatch("run "+mode, `Breakpoint 1,`)
			tr.match("inferior 1", `\[Switching to inferior 1 \[process \d+\]`)
			tr.match("continue", fmt.Sprintf(`hit Breakpoint 2(\.\d+)?, main \(argc=2, argv=0x[0-9a-f]+\) at \S*forker\.c:%d\n`, parentExit))
			tr.match("print status", `^\$\d+ = 768$`)
			tr.match("continue", inferiorExitedRE(1, 13), 2)
		})
	}
}
