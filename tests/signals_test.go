//go:build linux

package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSIGSEGV(t *testing.T) {
	prepare(t)
	fault := lineOf(t, "segv.c", "fault")
	s := startStub(t, stubOptions{prog: prog("segv")})
	tr := s.gdb(
		"continue",
		"print $_siginfo.si_signo",
		"print $_siginfo._sifields._sigfault.si_addr",
		"continue",
	)
	tr.match("continue", `Program received signal SIGSEGV, Segmentation fault\.\n`+
		fmt.Sprintf(`0x[0-9a-f]+ in main \(\) at \S*segv\.c:%d\n`, fault))
	tr.match("print $_siginfo.si_signo", `^\$\d+ = 11$`)
	tr.match("print $_siginfo._sifields._sigfault.si_addr", `^\$\d+ = \(void \*\) 0x10$`)
	tr.match("continue", `Program terminated with signal SIGSEGV, Segmentation fault\.\nThe program no longer exists\.`, 2)
}

// TestInterrupt stops a program that runs a loop without system calls, as
// Ctrl-C in gdb does: gdb/MI's -exec-interrupt makes gdb send the interrupt
// byte. The stop must be reported as SIGINT, and the session must go on.
func TestInterrupt(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("spin")})
	g := startMI(t, prog("spin"))
	g.run("-gdb-set mi-async on", "done")
	g.run("-target-select remote "+s.target, "connected")
	g.run("-break-insert spinning", "done")
	g.run("-exec-continue", "running")
	g.expect(`^\*stopped,reason="breakpoint-hit",.*func="spinning"`)
	g.run("-break-delete", "done")

	g.run("-exec-continue", "running")
	g.expect(`^\*running,thread-id="all"`)
	g.run("-exec-interrupt", "done")
	g.expect(`^\*stopped,reason="signal-received",signal-name="SIGINT",signal-meaning="Interrupt",.*func="(main|spinning)"`)

	// Interrupt once more, then let the program finish: the first
	// interrupt must not have left anything behind.
	g.run("-exec-continue", "running")
	g.expect(`^\*running,thread-id="all"`)
	g.run("-exec-interrupt", "done")
	g.expect(`^\*stopped,reason="signal-received",signal-name="SIGINT"`)
	g.run("-data-evaluate-expression stop=1", "done")
	g.run("-exec-continue", "running")
	g.expect(`^\*stopped,reason="exited",exit-code="03"`)
}

// sigallSignals are gdb's names of the signals testdata/sigall.c raises,
// in its order: Linux's 1 to 31 but SIGKILL, SIGSTOP, SIGTRAP and
// SIGSTKFLT, then the real-time signals 34 to 64.
func sigallSignals() []string {
	names := []string{
		"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGABRT", "SIGBUS", "SIGFPE",
		"SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
		"SIGCHLD", "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
		"SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",
		"SIGPWR", "SIGSYS",
	}
	for sig := 34; sig <= 64; sig++ {
		names = append(names, fmt.Sprintf("SIG%d", sig))
	}
	return names
}

// TestAllSignals, in the manner of gdb's sigall test: with every signal
// set to stop, print and pass, gdb reports each signal the program raises,
// by its name and in order, among them SIGIO (which gdb also passes as
// SIGPOLL), SIGPWR, SIGSYS and the real-time signals, whose numbers differ
// between gdb and Linux; each is delivered to the program's handler once,
// and the program ends well.
func TestAllSignals(t *testing.T) {
	prepare(t)
	names := sigallSignals()
	s := startStub(t, stubOptions{prog: prog("sigall")})
	cmds := []string{"handle " + strings.Join(names, " ") + " stop print pass"}
	for range names {
		cmds = append(cmds, "continue")
	}
	cmds = append(cmds, "continue")
	tr := s.gdb(cmds...)
	for i, name := range names {
		tr.match("continue", `Program received signal `+name+`, `, i+1)
	}
	tr.match("continue", `exited normally`, len(names)+1)
	if _, _, err := s.stdout.wait(0, regexp.MustCompile(fmt.Sprintf(`^sigall: %d signals ok$`, len(names))), exitTimeout, s.done); err != nil {
		t.Errorf("the program did not report its signals ok: %v; it printed:\n%s", err, s.stdout)
	}
}

// TestPassSignalsUpdate: a signal passed silently (QPassSignals) stops the
// program again once gdb takes it off the list.
func TestPassSignalsUpdate(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("usrsig")})
	tr := s.gdb(
		"handle SIGUSR1 SIGUSR2 nostop noprint pass",
		"break raise",
		"continue", // raise(SIGUSR1)
		"continue", // raise(SIGUSR2): SIGUSR1 passed silently
		"handle SIGUSR2 stop print",
		"delete",
		"continue",
		"continue",
	)
	tr.match("continue", `Breakpoint 1, .*raise`, 1)
	tr.match("continue", `Breakpoint 1, .*raise`, 2)
	tr.match("continue", `Program received signal SIGUSR2, `, 3)
	tr.match("continue", `exited with code 02`, 4)
}

// TestSiginfoWrite: gdb changes $_siginfo at a signal's stop (si_addr,
// si_errno, si_code, and si_signo to the same signal), and the program's
// SA_SIGINFO handler sees the new values: procgdb writes them with
// qXfer:siginfo:write, for a fault and for a raised signal.
func TestSiginfoWrite(t *testing.T) {
	prepare(t)
	for _, tt := range []struct {
		arg, signal string
		signo       int
	}{
		{"segv", "SIGSEGV", 11},
		{"usr1", "SIGUSR1", 10},
	} {
		t.Run(tt.arg, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("siginfo"), args: []string{tt.arg}})
			signo := fmt.Sprintf("p $_siginfo.si_signo = %d", tt.signo)
			tr := s.gdb(
				"continue",
				"p $_siginfo._sifields._sigfault.si_addr = 0x666",
				"p $_siginfo.si_errno = 666",
				"p $_siginfo.si_code = 999",
				signo,
				"p $_siginfo",
				"continue",
			)
			tr.match("continue", `Program received signal `+tt.signal+`, `)
			tr.match("p $_siginfo._sifields._sigfault.si_addr = 0x666", `^\$\d+ = \(void \*\) 0x666$`)
			tr.match("p $_siginfo.si_errno = 666", `^\$\d+ = 666$`)
			tr.match("p $_siginfo.si_code = 999", `^\$\d+ = 999$`)
			tr.match(signo, fmt.Sprintf(`^\$\d+ = %d$`, tt.signo))
			tr.match("p $_siginfo", fmt.Sprintf(`si_signo = %d, si_errno = 666, si_code = 999,.*si_addr = 0x666`, tt.signo))
			tr.match("continue", `exited normally`, 2)
			want := fmt.Sprintf("^handler: signo=%d errno=666 code=999 addr=0x666$", tt.signo)
			if _, _, err := s.stdout.wait(0, regexp.MustCompile(want), exitTimeout, s.done); err != nil {
				t.Errorf("the handler did not see the new siginfo: %v; the program printed:\n%s", err, s.stdout)
			}
		})
	}
}

// TestSignalDuringNext runs gdb's next over a loop that only a SIGALRM
// handler ends (testdata/alarmloop.c), with SIGALRM passed to the program
// silently. gdb must be told of a signal that arrives for a thread it
// steps, even one it passes on: it then puts a breakpoint where the
// handler returns, lets the handler run with the signal, and steps on
// from there. next ends at the line after the loop, with one signal and
// with several arriving while gdb steps.
func TestSignalDuringNext(t *testing.T) {
	prepare(t)
	loop := lineOf(t, "alarmloop.c", "loop")
	after := lineOf(t, "alarmloop.c", "after-loop")
	for _, tt := range []struct {
		name string
		want int
		args []string // WANT and FIRST
	}{
		{"one signal", 1, []string{"1", "300000"}},
		{"five signals", 5, []string{"5", "20000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("alarmloop"), args: tt.args})
			tr := s.gdb(
				"handle SIGALRM nostop noprint pass",
				fmt.Sprintf("break %d", loop),
				"continue",
				"next",
				"print count",
				"continue",
			)
			tr.match("continue", fmt.Sprintf(`Breakpoint 1, main \(.*\) at \S*alarmloop\.c:%d\n`, loop))
			tr.match("next", fmt.Sprintf(`^%d\s+setitimer\(ITIMER_REAL, &off, NULL\);`, after))
			if m := tr.match("print count", `^\$\d+ = (\d+)$`); m != nil {
				if n, _ := strconv.Atoi(m[1]); n < tt.want {
					t.Errorf("count = %d after next, want at least %d", n, tt.want)
				}
			}
			tr.match("continue", exitedRE(0), 2)
		})
	}
}

// TestSignalHandlerStep stops at a SIGALRM (handle SIGALRM stop print
// pass) in testdata/alarmloop.c's loop, then steps with gdb's step: into
// the handler, through it line by line (under the frame gdb shows as
// "<signal handler called>"), and out of it back to main.
func TestSignalHandlerStep(t *testing.T) {
	prepare(t)
	loop := lineOf(t, "alarmloop.c", "loop")
	after := lineOf(t, "alarmloop.c", "after-loop")
	entry := lineOf(t, "alarmloop.c", "handler-entry")
	body := lineOf(t, "alarmloop.c", "handler-count")
	end := lineOf(t, "alarmloop.c", "handler-end")
	s := startStub(t, stubOptions{prog: prog("alarmloop")})
	tr := s.gdb(
		"handle SIGALRM stop print pass",
		fmt.Sprintf("break %d", loop),
		"continue",
		// Nothing to hit when the handler returns to the loop.
		"delete",
		"continue",
		"step",
		"bt",
		"step",
		"step",
		"step",
		"print count",
		"continue",
	)
	tr.match("continue", `Program received signal SIGALRM, Alarm clock\.`, 2)
	tr.match("step", fmt.Sprintf(`^handler \(sig=-?\d+\) at \S*alarmloop\.c:%d\n`, entry))
	tr.match("bt", `(?m)^#0\s+handler \(.*\n#1\s+<signal handler called>\n#2\s+.*main \(`)
	tr.match("step", fmt.Sprintf(`^%d\s`, body), 2)
	tr.match("step", fmt.Sprintf(`^%d\s`, end), 3)
	// Back where the signal came, or (from the middle of the loop's line)
	// on to the line after it.
	tr.match("step", fmt.Sprintf(`^main \(.*\) at \S*alarmloop\.c:(%d|%d)\n`, loop, after), 4)
	tr.match("print count", `^\$\d+ = 1$`)
	tr.match("continue", exitedRE(0), 3)
}

// TestPassedSignalsSiginfo debugs testdata/tkill.c, whose two threads get
// SIGUSR1 and SIGUSR2 from tgkill at the same moment, under handle ...
// stop print pass: gdb stops at each of the four signals, in its thread,
// with the signal's own siginfo, and passing each on delivers it to that
// thread, once, with that siginfo (the handlers check), so the program
// ends well.
func TestPassedSignalsSiginfo(t *testing.T) {
	prepare(t)
	joined := lineOf(t, "tkill.c", "joined")
	s := startStub(t, stubOptions{prog: prog("tkill")})
	cmds := []string{
		"handle SIGUSR1 stop print pass",
		"handle SIGUSR2 stop print pass",
		fmt.Sprintf("break %d", joined),
	}
	const signals = 4
	for range signals {
		cmds = append(cmds,
			"continue",
			"print $_siginfo.si_signo",
			"print $_siginfo.si_code",
			"print $_siginfo._sifields._kill.si_pid == self",
		)
	}
	cmds = append(cmds, "continue", "continue")
	tr := s.gdb(cmds...)

	seen := map[string]bool{} // "thread/signal"
	for n := 1; n <= signals; n++ {
		m := tr.match("continue", `Thread (\d+) .* received signal SIGUSR([12]), User defined signal [12]\.`, n)
		if m == nil {
			continue
		}
		if seen[m[1]+"/"+m[2]] {
			t.Errorf("continue #%d: thread %s got SIGUSR%s again", n, m[1], m[2])
		}
		seen[m[1]+"/"+m[2]] = true
		signo := map[string]string{"1": "10", "2": "12"}[m[2]]
		tr.match("print $_siginfo.si_signo", `^\$\d+ = `+signo+`$`, n)
		tr.match("print $_siginfo.si_code", `^\$\d+ = -6$`, n) // SI_TKILL
		tr.match("print $_siginfo._sifields._kill.si_pid == self", `^\$\d+ = 1$`, n)
	}
	tr.match("continue", fmt.Sprintf(`Breakpoint 1, main \(\) at \S*tkill\.c:%d\n`, joined), signals+1)
	tr.match("continue", exitedRE(0), signals+2)
}

// TestSignalCommandThread: gdb's signal command delivers the signal to the
// selected thread, even when handle says nopass, and even when gdb first
// has to step another thread over a breakpoint. Thread 1 waits in
// pthread_join, stopped with the other thread rather than by a signal.
func TestSignalCommandThread(t *testing.T) {
	prepare(t)
	handler := lineOf(t, "nopass.c", "handler")
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("step over %v", keep), func(t *testing.T) {
			prepare(t)
			s := startStub(t, stubOptions{prog: prog("nopass")})
			cmds := []string{
				"handle SIGUSR1 stop print nopass",
				"break blocked",
				"continue",
			}
			if !keep {
				cmds = append(cmds, "delete")
			}
			cmds = append(cmds, "break handler", "thread 1", "signal SIGUSR1", "info threads")
			tr := s.gdb(cmds...)
			tr.match("continue", `hit Breakpoint 1, blocked \(\)`)
			tr.match("signal SIGUSR1", fmt.Sprintf(`Breakpoint \d, handler \(sig=10\) at \S*nopass\.c:%d\n`, handler))
			tr.match("info threads", `(?m)^\* 1\s+Thread .* handler \(sig=10\)`)
		})
	}
}

// TestQueueSignalStepi: stepi with a signal queued for thread 1, waiting
// in pthread_join, delivers it with the step: the thread stops at the
// first instruction of the handler.
func TestQueueSignalStepi(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("nopass")})
	tr := s.gdb(
		"handle SIGUSR1 stop print pass",
		"break blocked",
		"continue",
		"delete",
		"thread 1",
		"queue-signal SIGUSR1",
		"stepi",
		"bt 2",
		"kill",
	)
	tr.match("continue", `hit Breakpoint 1, blocked \(\)`)
	tr.match("stepi", `^handler \(sig=-?\d+\) at \S*nopass\.c:\d+\n`)
	tr.match("bt 2", `(?m)^#0\s+handler \(.*\n#1\s+<signal handler called>`)
}

// TestAttachSignalPending attaches again and again to testdata/sigchain.c,
// whose thread always has a SIGALRM on its way, until the thread is found
// stopped with it: gdb shows the signal in the thread's $_siginfo. Each
// detach must deliver the signal, or the chain breaks and the program
// aborts.
func TestAttachSignalPending(t *testing.T) {
	prepare(t)
	canAttach(t)
	p := startReady(t, "sigchain")
	pid := p.cmd.Process.Pid
	s := startMulti(t, stubOptions{})
	const attempts = 30
	caught := false
	for i := 0; i < attempts && !caught; i++ {
		tr := s.gdbExt(prog("sigchain"),
			"handle SIGALRM stop print pass",
			fmt.Sprintf("attach %d", pid),
			"thread apply 2 print $_siginfo.si_signo",
			"detach",
		)
		m := tr.match("thread apply 2 print $_siginfo.si_signo", `(?m)^\$\d+ = (\d+)$`)
		caught = m != nil && m[1] == "14"
		tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))
		if t.Failed() {
			break
		}
	}
	if !caught {
		t.Errorf("in %d attaches, thread 2 was never shown stopped with its SIGALRM", attempts)
	}
	p.runsOnToReport(t, "sigchain", `^done$`)
}
