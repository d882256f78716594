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

// Extended-remote: gdb's "target extended-remote" against a stub started
// with --multi and no program. The client runs, re-runs and attaches to
// programs, follows them through fork and exec, and may leave and come
// back.

// startMulti starts an extended-remote server with no process, and kills
// whatever it launched when the test ends (gdbserver's launched processes
// need not die with it).
func startMulti(t *testing.T, o stubOptions) *stub {
	t.Helper()
	o.multi = true
	s := startStub(t, o)
	t.Cleanup(func() {
		for _, pid := range s.launched() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return s
}

// launched returns the PIDs of the processes the stub said it created,
// in order.
func (s *stub) launched() []int {
	var pids []int
	for _, l := range strings.Split(s.stderr.String(), "\n") {
		if m := createdRE.FindStringSubmatch(l); m != nil {
			pid, _ := strconv.Atoi(m[2])
			pids = append(pids, pid)
		}
	}
	return pids
}

// gdbExt runs a gdb batch session connected with "target extended-remote";
// gdb loads file first unless it is empty.
func (s *stub) gdbExt(file string, cmds ...string) *transcript {
	s.t.Helper()
	return runGDB(s.t, file, "target extended-remote "+s.target, cmds...)
}

// inferiorExitedRE is how gdb reports that inferior n exited with code
// (in octal, with a leading 0).
func inferiorExitedRE(n, code int) string {
	return fmt.Sprintf(`\[Inferior %d \(process (\d+)\) exited with code 0%o\]`, n, code)
}

// report returns the lines a test program wrote to file.
func report(t *testing.T, file string) []string {
	t.Helper()
	return strings.Split(strings.TrimSpace(readFile(t, file)), "\n")
}

// checkReport fails the test unless showargs.c wrote want to file.
func checkReport(t *testing.T, file string, want ...string) {
	t.Helper()
	got := report(t, file)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", filepath.Base(file), indent(strings.Join(got, "\n")), indent(strings.Join(want, "\n")))
	}
}

// processGone reports whether process pid is gone or a zombie.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// TestExtendedRun runs a program several times from one gdb session: with
// arguments and environment variables, killed and run again with new ones,
// in a directory set with "set cwd", and with "start".
func TestExtendedRun(t *testing.T) {
	prepare(t)
	dir := t.TempDir()
	cwd := t.TempDir()
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r := func(n int) string { return filepath.Join(dir, fmt.Sprintf("report%d", n)) }
	s := startMulti(t, stubOptions{env: []string{"PROCGDB_T_SERVER=fromserver"}})
	tr := s.gdbExt(prog("showargs"),
		"set remote exec-file "+prog("showargs"),
		"set environment PROCGDB_T_SET=one",
		"break main",
		"run "+r(1)+" a b",
		"continue",
		"run "+r(2)+" x",
		"info inferiors",
		"kill",
		"set environment PROCGDB_T_SET=two",
		"unset environment PROCGDB_T_SERVER",
		"set cwd "+cwd,
		"run "+r(3)+" c",
		"continue",
		"delete",
		"start "+r(4)+" d e f",
		"continue",
	)
	tr.match("run "+r(1)+" a b", `Breakpoint 1, main \(argc=4, `)
	tr.match("continue", inferiorExitedRE(1, 2))
	checkReport(t, r(1), "argc=4", "arg=a", "arg=b", "set=one", "server=fromserver", "cwd="+here)

	tr.match("run "+r(2)+" x", `Breakpoint 1, main \(argc=3, `)
	m := tr.match("info inferiors", `(?m)^\*\s+1\s+process (\d+)\s.*\s\S*/showargs\s*$`)
	k := tr.match("kill", `\[Inferior 1 \(process (\d+)\) killed\]`)
	if m != nil && k != nil {
		if m[1] != k[1] {
			t.Errorf("info inferiors shows process %s, kill killed %s", m[1], k[1])
		}
		pid, _ := strconv.Atoi(k[1])
		if !processGone(pid) {
			t.Errorf("process %d still runs after kill", pid)
		}
	}
	if fileExists(r(2)) {
		t.Errorf("the killed run wrote its report:\n%s", readFile(t, r(2)))
	}

	tr.match("run "+r(3)+" c", `Breakpoint 1, main \(argc=3, `)
	tr.match("continue", inferiorExitedRE(1, 1), 2)
	checkReport(t, r(3), "argc=3", "arg=c", "set=two", "server=(unset)", "cwd="+cwd)

	tr.match("start "+r(4)+" d e f", `Temporary breakpoint 2, main \(argc=5, `)
	tr.match("continue", inferiorExitedRE(1, 3), 3)
	checkReport(t, r(4), "argc=5", "arg=d", "arg=e", "arg=f", "set=two", "server=(unset)", "cwd="+cwd)
}

// TestExtendedAttach attaches to a separately started process with eight
// named threads, without giving gdb the program: gdb learns it from the
// stub. All threads are listed with their names and unwound; after the
// detach the process runs on to a correct result.
func TestExtendedAttach(t *testing.T) {
	prepare(t)
	canAttach(t)
	p := startReady(t, "named")
	pid := p.cmd.Process.Pid
	s := startMulti(t, stubOptions{})
	tr := s.gdbExt("",
		fmt.Sprintf("attach %d", pid),
		"info threads",
		"thread apply all bt",
		"detach",
	)
	tr.match(fmt.Sprintf("attach %d", pid), fmt.Sprintf(`\[New Thread %d\.\d+\]`, pid))
	threads := tr.out("info threads")
	names := map[string]bool{}
	for _, l := range scanLines(threads) {
		if m := regexp.MustCompile(fmt.Sprintf(`^\*?\s+\d+\s+Thread %d\.\d+ "([^"]+)"`, pid)).FindStringSubmatch(l); m != nil {
			names[m[1]] = true
		}
	}
	for id := 1; id <= 7; id++ {
		if name := fmt.Sprintf("worker-%d", id); !names[name] {
			t.Errorf("info threads does not list a thread named %q", name)
		}
	}
	if !names["named"] || len(names) != 8 {
		t.Errorf("info threads lists the names %v, want named and worker-1 to worker-7:\n%s", names, indent(threads))
	}
	bt := tr.out("thread apply all bt")
	if n := len(regexp.MustCompile(`(?m)^Thread \d+ \(Thread \d+\.\d+ "[^"]+"\):$`).FindAllString(bt, -1)); n != 8 {
		t.Errorf("thread apply all bt shows %d threads, want 8", n)
	}
	if n := len(regexp.MustCompile(`(?m)^#\d+\s+(0x[0-9a-f]+ in )?worker \(arg=0x[0-9a-f]+\) at \S*named\.c:\d+$`).FindAllString(bt, -1)); n != 7 {
		t.Errorf("thread apply all bt shows %d worker frames, want 7", n)
	}
	if n := len(regexp.MustCompile(`(?m)^#\d+\s+(0x[0-9a-f]+ in )?main \(\) at \S*named\.c:\d+$`).FindAllString(bt, -1)); n != 1 {
		t.Errorf("thread apply all bt shows %d main frames, want 1", n)
	}
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))

	p.runsOnToReport(t, "named", `^done threads=7 ok=1$`)
}

// followChild returns the commands that make gdb run forker, follow the
// child of its fork and keep the parent, followed by cmds.
func followChild(cmds ...string) []string {
	return append([]string{
		"set remote exec-file " + prog("forker"),
		"set follow-fork-mode child",
		"set detach-on-fork off",
	}, cmds...)
}

// TestExtendedFollowFork follows the child of a fork (and of a vfork) and
// keeps the parent: both are inferiors, and both run to their exits with
// the right codes.
func TestExtendedFollowFork(t *testing.T) {
	prepare(t)
	childWork := lineOf(t, "forker.c", "child-work")
	for _, mode := range []string{"fork", "vfork"} {
		t.Run(mode, func(t *testing.T) {
			prepare(t)
			s := startMulti(t, stubOptions{})
			tr := s.gdbExt(prog("forker"), followChild(
				"break child_work",
				"run "+mode,
				"info inferiors",
				"continue",
				"inferior 1",
				"continue",
				"info inferiors",
			)...)
			out := tr.match("run "+mode, `\[Attaching after (?:Thread|process) (\d+)(?:\.\d+)? `+mode+` to child (?:Thread|process) (\d+)(?:\.\d+)?\]`)
			tr.match("run "+mode, `\[New inferior 2 \(process \d+\)\]`)
			tr.match("run "+mode, `Thread 2\.1 "forker" hit Breakpoint 1(\.\d+)?, child_work \(x=2\) `+atLine("forker.c", childWork))
			if out == nil {
				return
			}
			parent, child := out[1], out[2]
			tr.match("info inferiors", fmt.Sprintf(`(?m)^\s+1\s+process %s\s.*\s\S*/forker\s*$`, parent))
			tr.match("info inferiors", fmt.Sprintf(`(?m)^\*\s+2\s+process %s\s.*\s\S*/forker\s*$`, child))
			tr.match("continue", fmt.Sprintf(`\[Inferior 2 \(process %s\) exited with code 03\]`, child))
			tr.match("inferior 1", fmt.Sprintf(`\[Switching to inferior 1 \[process %s\]`, parent))
			tr.match("continue", fmt.Sprintf(`\[Inferior 1 \(process %s\) exited with code 015\]`, parent), 2)
			tr.match("info inferiors", `(?m)^\*\s+1\s+<null>\s`, 2)
			tr.noMatch("info inferiors", `process`, 2)
		})
	}
}

// TestExtendedCatchFork stops at a fork and at a vfork with catch fork and
// catch vfork; the child is then detached and both run to their exits. A
// client that leaves at the catchpoint has not decided about the child:
// the next client's continue must not wait for ever for a parent that
// waits for a held child.
func TestExtendedCatchFork(t *testing.T) {
	prepare(t)
	for _, mode := range []string{"fork", "vfork"} {
		for _, leave := range []bool{false, true} {
			name := mode
			if leave {
				name += "-disconnect"
			}
			t.Run(name, func(t *testing.T) {
				if leave {
					onlyProcgdb(t, "letting a fork child go when its client leaves")
				}
				prepare(t)
				s := startMulti(t, stubOptions{})
				cmds := []string{"set remote exec-file " + prog("forker"), "catch " + mode, "run " + mode}
				after := []string{"info inferiors", "continue"}
				if leave {
					cmds = append(cmds, "disconnect")
				} else {
					cmds = append(cmds, after...)
				}
				tr := s.gdbExt(prog("forker"), cmds...)
				tr.match("run "+mode, fmt.Sprintf(`Catchpoint 1 \(%sed process \d+\)`, mode))
				if leave {
					tr = s.gdbExt(prog("forker"), after...)
				}
				tr.match("info inferiors", `(?m)^\*\s+1\s+process \d+\s.*\s\S*/forker\s*$`)
				tr.noMatch("info inferiors", `(?m)^\s*2\s`)
				tr.match("continue", inferiorExitedRE(1, 13))
			})
		}
	}
}

// TestExtendedCatchExec stops at an exec with catch exec; gdb then debugs
// the new program, breakpoints and all.
func TestExtendedCatchExec(t *testing.T) {
	prepare(t)
	rep := filepath.Join(t.TempDir(), "report")
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s := startMulti(t, stubOptions{})
	run := "run exec " + prog("showargs") + " " + rep + " x"
	tr := s.gdbExt(prog("forker"),
		"set remote exec-file "+prog("forker"),
		"catch exec",
		run,
		"break main",
		"continue",
		"continue",
	)
	tr.match(run, `process \d+ is executing new program: \S*showargs`)
	tr.match(run, `Catchpoint 1 \(exec'd \S*showargs\)`)
	tr.match("continue", `Breakpoint 2, main \(argc=3, `)
	tr.match("continue", inferiorExitedRE(1, 1), 2)
	checkReport(t, rep, "argc=3", "arg=x", "set=(unset)", "server=(unset)", "cwd="+here)
}

// TestExtendedCatchSyscall stops at the entry to and the return from the
// write system call with catch syscall write.
func TestExtendedCatchSyscall(t *testing.T) {
	prepare(t)
	rep := filepath.Join(t.TempDir(), "report")
	s := startMulti(t, stubOptions{})
	tr := s.gdbExt(prog("basic"),
		"set remote exec-file "+prog("basic"),
		"catch syscall write",
		"run "+rep,
		"print $orig_rax",
		"continue",
		"print $rax",
		"delete",
		"continue",
	)
	tr.match("run "+rep, `Catchpoint 1 \(call to syscall write\)`)
	tr.match("print $orig_rax", `^\$\d+ = 1$`)
	tr.match("continue", `Catchpoint 1 \(returned from syscall write\)`)
	// The first write is the report's 26 bytes: the program's stdout is a
	// pipe, written when the program exits.
	tr.match("print $rax", `^\$\d+ = 26$`)
	tr.match("continue", exitedRE(7), 2)
	checkBasicReport(t, rep)
}

// TestExtendedRunArguments: the program receives each argument of gdb's
// run and set args exactly as gdb sent it, with startup-with-shell on and
// off (issues 11 and 17): empty arguments, blanks, quotes, newlines, and
// the shell's syntax ($(...), backticks, globs, redirections), which runs
// nothing and expands nothing.
func TestExtendedRunArguments(t *testing.T) {
	prepare(t)
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// args is what follows "run REPORT" and "set args REPORT"; with
		// INJECTED replaced by a file that must not come to exist.
		args string
		want []string
		// gdbserver 13.1 passes these arguments as they are with the
		// shell (on13) and without it (off13). It drops an empty last
		// argument and escapes single quotes and newlines twice;
		// without the shell it joins the arguments and splits them
		// again at blanks, losing empty ones and refusing those with
		// blanks. Later gdbservers, and gdb's own test of inferior
		// arguments (gdb.base/inferior-args.exp), pass each one as it
		// is.
		on13, off13 bool
	}{
		{"empty", `1 "" 3`, []string{"1", "", "3"}, true, false},
		{"empty last", `1 ""`, []string{"1", ""}, false, false},
		{"blanks", "'a b' \"  \" \"x\ty\"", []string{"a b", "  ", "x\ty"}, true, false},
		{"double quotes", `"c\"d" '"' \"`, []string{`c"d`, `"`, `"`}, true, true},
		{"shell syntax", `'$(touch INJECTED)' '` + "`touch INJECTED`" + `' $HOME '*' '> INJECTED' '; touch INJECTED' '|' '&' '\\'`,
			[]string{"$(touch INJECTED)", "`touch INJECTED`", "$HOME", "*", "> INJECTED", "; touch INJECTED", "|", "&", `\`}, true, false},
		{"shell syntax, no blanks", `'$(id)' '` + "`id`" + `' $HOME '*' '>INJECTED' '|&;' '\\'`,
			[]string{"$(id)", "`id`", "$HOME", "*", ">INJECTED", "|&;", `\`}, true, true},
		{"single quotes", `"it's" \' "'"`, []string{"it's", "'", "'"}, false, false},
		{"newlines", "'new\nline' \"\n\" end", []string{"new\nline", "\n", "end"}, false, false},
	} {
		for _, shell := range []string{"on", "off"} {
			t.Run(tc.name+", shell "+shell, func(t *testing.T) {
				prepare(t)
				if suite.stub == "gdbserver" && !map[string]bool{"on": tc.on13, "off": tc.off13}[shell] {
					t.Skipf("gdbserver 13.1 does not pass these arguments as they are with startup-with-shell %s", shell)
				}
				dir := t.TempDir()
				injected := filepath.Join(dir, "injected")
				args := strings.ReplaceAll(tc.args, "INJECTED", injected)
				var want []string
				for _, a := range tc.want {
					want = append(want, "arg="+strings.ReplaceAll(a, "INJECTED", injected))
				}
				want = append([]string{fmt.Sprintf("argc=%d", len(tc.want)+2)}, want...)
				want = append(want, "set=(unset)", "server=(unset)", "cwd="+here)
				run, set := filepath.Join(dir, "run"), filepath.Join(dir, "set")
				s := startMulti(t, stubOptions{})
				tr := s.gdbExt(prog("showargs"),
					"set remote exec-file "+prog("showargs"),
					"set startup-with-shell "+shell,
					"run "+run+" "+args,
					"set args "+set+" "+args,
					"run",
				)
				tr.match("run "+run+" "+args, inferiorExitedRE(1, len(tc.want)))
				tr.match("run", inferiorExitedRE(1, len(tc.want)))
				checkReport(t, run, want...)
				checkReport(t, set, want...)
				if fileExists(injected) {
					t.Errorf("an argument ran a command: %s exists", injected)
				}
			})
		}
	}
}

// TestExtendedTwoClients: a client sets breakpoints and disconnects while
// its process is stopped at one; the next client finds the process where
// the first left it, and no breakpoint left behind.
func TestExtendedTwoClients(t *testing.T) {
	prepare(t)
	rep := filepath.Join(t.TempDir(), "report")
	s := startMulti(t, stubOptions{})
	tr := s.gdbExt(prog("basic"),
		"set remote exec-file "+prog("basic"),
		"break main",
		"break add",
		"break puts",
		"run "+rep,
		"info inferiors",
		"disconnect",
	)
	tr.match("run "+rep, `Breakpoint 1, main \(`)
	m := tr.match("info inferiors", `(?m)^\*\s+1\s+process (\d+)\s`)
	if m == nil {
		return
	}
	pid := m[1]

	tr = s.gdbExt(prog("basic"),
		"info inferiors",
		"bt",
		"print counter",
		"continue",
	)
	tr.match("info inferiors", fmt.Sprintf(`(?m)^\*\s+1\s+process %s\s`, pid))
	tr.match("continue", fmt.Sprintf(`\[Inferior 1 \(process %s\) exited with code 07\]`, pid))
	checkSecondClient(t, s, tr, rep)
}

// TestExtendedOnce: with --once --multi the server exits when its client
// disconnects; a process the client ran does not outlive it, and one it
// attached to runs on, its breakpoints removed.
func TestExtendedOnce(t *testing.T) {
	prepare(t)
	t.Run("launched", func(t *testing.T) {
		prepare(t)
		rep := filepath.Join(t.TempDir(), "report")
		s := startMulti(t, stubOptions{once: true})
		tr := s.gdbExt(prog("basic"),
			"set remote exec-file "+prog("basic"),
			"break main",
			"run "+rep,
			"disconnect",
		)
		tr.match("run "+rep, `Breakpoint 1, main \(`)
		if err := s.waitExit(exitTimeout); err != nil {
			t.Errorf("%s --once --multi exited with %v after its client disconnected", suite.stub, err)
		}
		pids := s.launched()
		if len(pids) != 1 {
			t.Fatalf("the stub reported launching %v, want one process", pids)
		}
		waitGone(t, pids[0])
		if fileExists(rep) {
			t.Errorf("the program ran on after its server exited:\n%s", readFile(t, rep))
		}
	})
	t.Run("attached", func(t *testing.T) {
		prepare(t)
		canAttach(t)
		p := startReady(t, "named")
		pid := p.cmd.Process.Pid
		s := startMulti(t, stubOptions{once: true})
		tr := s.gdbExt(prog("named"),
			fmt.Sprintf("attach %d", pid),
			"break tick",
			"continue",
			"disconnect",
		)
		tr.match("continue", `Thread \d+ "worker-\d" hit Breakpoint 1, tick \(id=\d, i=\d+\) `+atLine("named.c", lineOf(t, "named.c", "tick-body")))
		if err := s.waitExit(exitTimeout); err != nil {
			t.Errorf("%s --once --multi exited with %v after its client disconnected", suite.stub, err)
		}
		p.runsOnToReport(t, "named", `^done threads=7 ok=1$`)
	})
}

// TestExtendedTwoInferiors debugs two programs at once on one connection
// (add-inferior): each stops at its own breakpoint, both are listed, and
// each runs to its own exit.
func TestExtendedTwoInferiors(t *testing.T) {
	prepare(t)
	dir := t.TempDir()
	r1, r2 := filepath.Join(dir, "report1"), filepath.Join(dir, "report2")
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s := startMulti(t, stubOptions{})
	tr := s.gdbExt(prog("basic"),
		"set remote exec-file "+prog("basic"),
		"break add",
		"run "+r1,
		"add-inferior -exec "+prog("showargs"),
		"inferior 2",
		"set remote exec-file "+prog("showargs"),
		"break showargs.c:"+strconv.Itoa(lineOf(t, "showargs.c", "showargs-first")),
		"run "+r2+" q",
		"info inferiors",
		"continue",
		"inferior 1",
		"bt 1",
		"continue",
	)
	tr.match("run "+r1, `Breakpoint 1, add \(a=42, b=5\) `)
	tr.match("run "+r2+" q", `Thread 2\.1 "showargs" hit Breakpoint 2, main \(argc=3, `)
	tr.match("info inferiors", `(?m)^\s+1\s+process \d+\s.*\s\S*/basic\s*$`)
	tr.match("info inferiors", `(?m)^\*\s+2\s+process \d+\s.*\s\S*/showargs\s*$`)
	tr.match("continue", inferiorExitedRE(2, 1))
	tr.match("bt 1", `^#0\s+add \(a=42, b=5\) `+atLine("basic.c", lineOf(t, "basic.c", "add-body")))
	tr.match("continue", inferiorExitedRE(1, 7), 2)
	checkReport(t, r2, "argc=3", "arg=q", "set=(unset)", "server=(unset)", "cwd="+here)
	checkBasicReport(t, r1)
}

// TestExtendedTwoClientsThreads: the first client attaches to a process
// with eight threads that all call tick(), stops at a breakpoint there and
// disconnects; the second finds all eight threads stopped, and the process
// runs to a normal exit without a trace of the breakpoint.
func TestExtendedTwoClientsThreads(t *testing.T) {
	prepare(t)
	canAttach(t)
	p := startReady(t, "named")
	pid := p.cmd.Process.Pid
	s := startMulti(t, stubOptions{})
	tr := s.gdbExt(prog("named"),
		fmt.Sprintf("attach %d", pid),
		"break tick",
		"continue",
		"continue",
		"disconnect",
	)
	tr.match("continue", `Thread \d+ "worker-\d" hit Breakpoint 1, tick \(`)
	tr.match("continue", `Thread \d+ "worker-\d" hit Breakpoint 1, tick \(`, 2)

	// named ends once its stdin reaches end of file, which it sees when
	// it runs again.
	if err := p.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	tr = s.gdbExt(prog("named"),
		"info threads",
		"continue",
	)
	if n := len(regexp.MustCompile(fmt.Sprintf(`(?m)^\*?\s+\d+\s+Thread %d\.\d+ "`, pid)).FindAllString(tr.out("info threads"), -1)); n != 8 {
		t.Errorf("the second client sees %d threads, want 8:\n%s", n, indent(tr.out("info threads")))
	}
	tr.match("continue", fmt.Sprintf(`\[Inferior 1 \(process %d\) exited normally\]`, pid))
	tr.noMatch("continue", `SIGTRAP`)
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("named did not exit within %v", exitTimeout)
	}
	if _, _, err := p.out.wait(0, regexp.MustCompile(`^done threads=7 ok=1$`), readyTimeout, p.done); err != nil {
		t.Errorf("named's report: %v", err)
	}
}
