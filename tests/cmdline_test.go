//go:build linux

package tests

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gdbserver's whole command line: start-up commands written for
// gdbserver work unchanged with procgdb.

// TestWrapper: --wrapper WRAPPER -- starts the program under the wrapper,
// and gdb sees the program stopped at its first instruction, not the
// wrapper.
func TestWrapper(t *testing.T) {
	prepare(t)
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{
		prog:  prog("showargs"),
		args:  []string{report, "a", "b c"},
		flags: []string{"--wrapper", "env", "PROCGDB_T_SET=wrapped", "--"},
	})
	tr := s.gdb("info proc exe", "continue")
	tr.match("info proc exe", `exe = '\S+/showargs'`)
	tr.match("continue", exitedRE(2))
	checkReport(t, report, "argc=4", "arg=a", "arg=b c", "set=wrapped", "server=(unset)", "cwd="+workingDir(t))
}

// TestWrapperExtended: the programs an extended-remote client runs start
// under the wrapper too, through the shell or not.
func TestWrapperExtended(t *testing.T) {
	prepare(t)
	// gdbserver 13 lets such a program run to its end during startup
	// through the shell, and forgets the wrapper without it.
	onlyProcgdb(t, "--wrapper for the programs a client runs")
	for _, shell := range []string{"on", "off"} {
		report := filepath.Join(t.TempDir(), "report")
		s := startMulti(t, stubOptions{flags: []string{"--wrapper", "env", "PROCGDB_T_SET=wrapped", "--"}})
		tr := s.gdbExt(prog("showargs"),
			"set startup-with-shell "+shell,
			"set remote exec-file "+prog("showargs"),
			"run "+report+" x",
		)
		tr.match("run "+report+" x", inferiorExitedRE(1, 1))
		checkReport(t, report, "argc=3", "arg=x", "set=wrapped", "server=(unset)", "cwd="+workingDir(t))
	}
}

// workingDir returns the test's working directory, which stubs and the
// programs they start inherit.
func workingDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestDisablePacket: with gdbserver's --disable-packet list, the packets
// named get the empty reply, stop replies are S replies, and gdb still
// debugs the program with what is left.
func TestDisablePacket(t *testing.T) {
	prepare(t)
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{
		prog:  prog("basic"),
		args:  []string{report},
		flags: []string{"--disable-packet=vCont,T,Tthread,qC,qfThreadInfo,threads"},
	})
	c := dialStub(t, s)
	for _, p := range []string{"vCont?", "qC", "qfThreadInfo"} {
		if r := exchange(t, c, p); r != "" {
			t.Errorf("%s: %q, want the empty reply", p, r)
		}
	}
	if r := exchange(t, c, "?"); r != "S05" {
		t.Errorf("?: %q, want S05", r)
	}
	c.Close()

	tr := s.gdb("break add", "continue", "next", "bt", "info threads", "continue")
	tr.match("continue", `Breakpoint 1, add \(a=42, b=5\)`)
	tr.match("bt", `#1 +0x[0-9a-f]+ in main \(`)
	tr.match("info threads", `(?m)^\* 1 +`)
	tr.match("continue", exitedRE(7), 2)
	checkBasicReport(t, report)
}

// TestProgramInCurrentDirectory: a program named without a slash is the
// file in the stub's current directory (gdbserver's rule), not one looked
// for in $PATH.
func TestProgramInCurrentDirectory(t *testing.T) {
	prepare(t)
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{prog: "basic", args: []string{report}, dir: suite.progDir})
	s.waitStderr(`^Process ` + regexp.QuoteMeta(prog("basic")) + ` created; pid = \d+$`)
	tr := runGDB(t, prog("basic"), "target remote "+s.target, "continue")
	tr.match("continue", exitedRE(7))
	checkBasicReport(t, report)
}

// TestCommForms: COMM may name an IPv6 address bare or in brackets, and
// (procgdb) carry gdb's tcp:, tcp4: and tcp6: prefixes.
func TestCommForms(t *testing.T) {
	prepare(t)
	ipv6 := true
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		ipv6 = false
	} else {
		l.Close()
	}
	tests := []struct {
		comm, connect string // connect: the host gdb connects to
		procgdbOnly   bool
		needIPv6      bool
	}{
		{comm: "::1:0", connect: "[::1]", needIPv6: true},
		{comm: "[::1]:0", connect: "[::1]", needIPv6: true},
		{comm: "tcp::0", connect: "127.0.0.1", procgdbOnly: true},
		{comm: "tcp4::0", connect: "127.0.0.1", procgdbOnly: true},
		{comm: "tcp:127.0.0.1:0", connect: "127.0.0.1", procgdbOnly: true},
		{comm: "tcp6::0", connect: "[::1]", procgdbOnly: true, needIPv6: true},
		{comm: "tcp6:[::1]:0", connect: "[::1]", procgdbOnly: true, needIPv6: true},
	}
	for _, tt := range tests {
		t.Run(tt.comm, func(t *testing.T) {
			prepare(t)
			if tt.procgdbOnly {
				onlyProcgdb(t, "the tcp: prefixes")
			}
			if tt.needIPv6 && !ipv6 {
				t.Skip("no IPv6 loopback on this machine")
			}
			report := filepath.Join(t.TempDir(), "report")
			s := startStub(t, stubOptions{comm: tt.comm, prog: prog("basic"), args: []string{report}})
			_, port, _ := net.SplitHostPort(s.target)
			tr := runGDB(t, prog("basic"), "target remote "+tt.connect+":"+port, "continue")
			tr.match("continue", exitedRE(7))
			checkBasicReport(t, report)
		})
	}
}

// TestSelftest: --selftest runs procgdb's own checks and says how many
// passed.
func TestSelftest(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's own checks")
	stdout, stderr, code := runStub(t, "--selftest")
	m := regexp.MustCompile(`(?m)^(\d+) of (\d+) checks passed$`).FindStringSubmatch(stdout)
	if code != 0 || m == nil || m[1] != m[2] || len(m[1]) < 2 {
		t.Errorf("procgdb --selftest: status %d, want 0 and ten checks or more, all passed:\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "FAIL") {
		t.Errorf("procgdb --selftest:\n%s", stdout)
	}
}

// TestDebugFormat: --debug-format=none logs without timestamps;
// --event-loop-debug is taken.
func TestDebugFormat(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's log format")
	s := startStub(t, stubOptions{prog: prog("basic"), flags: []string{"--debug", "--debug-format=none", "--event-loop-debug"}})
	s.gdb("continue")
	s.waitStderr(`^level=DEBUG msg=`)
	if n := s.stderr.count(regexp.MustCompile(`time=`)); n != 0 {
		t.Errorf("%d log lines with a timestamp", n)
	}
}

// TestRunNotExecutable: running a file without execute permission through
// vRun (MI -exec-run) fails at once, as with gdbserver: through the shell
// the shell says why and exits 126 during startup. Either way gdb/MI gets
// its error at once, and the next run works.
func TestRunNotExecutable(t *testing.T) {
	prepare(t)
	notExec := filepath.Join(suite.srcDir, "basic.c")
	for _, shell := range []string{"on", "off"} {
		t.Run("startup-with-shell "+shell, func(t *testing.T) {
			prepare(t)
			s := startMulti(t, stubOptions{})
			g := startMI(t, prog("basic"))
			g.run("-gdb-set startup-with-shell "+shell, "done")
			g.run("-target-select extended-remote "+s.target, "connected")
			g.run("-gdb-set remote exec-file "+notExec, "done")
			g.run("-exec-run", "error")
			if shell == "on" {
				s.waitStderr(`During startup program exited with code 126\.$`)
			}
			// gdbserver 13 loses the session after the failed run
			// without a shell ("Unknown remote qXfer reply: OK").
			if suite.stub != "procgdb" {
				return
			}
			report := filepath.Join(t.TempDir(), "report")
			g.run("-gdb-set remote exec-file "+prog("basic"), "done")
			g.run("-exec-arguments "+report, "done")
			g.run("-exec-run", "running")
			g.expect(`^\*stopped,reason="exited",exit-code="07"`)
			checkBasicReport(t, report)
		})
	}
}

// TestMissingProgramMessage: a program that does not exist is reported
// with the C library's words for it, by both stubs, and the stub exits 1.
func TestMissingProgramMessage(t *testing.T) {
	prepare(t)
	missing := filepath.Join(t.TempDir(), "nope")
	_, stderr, code := runStub(t, ":0", missing)
	if code != 1 || !strings.Contains(stderr, "No such file or directory") || !strings.Contains(stderr, missing) {
		t.Errorf("%s :0 %s: status %d, want 1 and a message with %q:\n%s", suite.stub, missing, code, "No such file or directory", stderr)
	}
}

// TestUsageErrorStatus: a command line the stub cannot parse ends it with
// status 1, as gdbserver does (procgdb adds a usage line:
// TestCommandLineErrors).
func TestUsageErrorStatus(t *testing.T) {
	prepare(t)
	for _, args := range [][]string{{"--bogus", ":0", prog("basic")}, {}, {"--wrapper", "env", ":0", prog("basic")}} {
		stdout, stderr, code := runStub(t, args...)
		if code != 1 {
			t.Errorf("%s %q: status %d, want 1:\n%s%s", suite.stub, args, code, stdout, stderr)
		}
	}
}

// usageRE matches the second line of procgdb's usage errors.
const usageRE = `^Usage: procgdb `
