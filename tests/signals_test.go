//go:build linux

package tests

import (
	"fmt"
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
