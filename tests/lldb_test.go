//go:build linux

package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lldb end to end: Debian's lldb (14) connects to procgdb with gdb-remote
// and debugs testdata/dual (a program calling into a shared library, with
// four threads at one point); gdb runs the same steps on the same program
// in the same test run, so both dialects are checked side by side.

// dualProgram builds testdata/dual/dual.c against libdual.so (from
// dual_lib.c) once per run, and returns the program's path.
var dualProgram = sync.OnceValues(func() (string, error) {
	return buildWithLibs("dual", "dual", []sharedLib{{"libdual.so", "dual_lib.c"}}, nil)
})

// needDual returns the dual program, failing the test if it cannot be built.
func needDual(t *testing.T) string {
	t.Helper()
	prog, err := dualProgram()
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// needTool skips the test when tool is not installed, or fails it in CI,
// where .ci/run installs it.
func needTool(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		msg := fmt.Sprintf("%s not found (bash .ci/run installs it): %v", tool, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// runLLDB runs "lldb --batch" on file with cmds, with a bounded time, and
// returns what each command printed.
func runLLDB(t *testing.T, file string, cmds ...string) *transcript {
	t.Helper()
	lldb := needTool(t, "lldb")
	args := []string{"--batch", "--no-lldbinit"}
	for _, c := range cmds {
		args = append(args, "-o", c)
	}
	args = append(args, file)
	ctx, cancel := context.WithTimeout(context.Background(), gdbTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, lldb, args...)
	cmd.Env = debuggerEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()
	tr := &transcript{t: t, all: string(out), cmds: cmds}
	splitLLDB(tr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lldb session:\n%s", tr.all)
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("lldb did not finish within %v; output:\n%s", gdbTimeout, tr.all)
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		t.Fatalf("lldb: %v", runErr)
	}
	return tr
}

// splitLLDB cuts the output of an lldb batch session into tr.parts at the
// "(lldb) CMD" lines lldb echoes for each -o command, in order.
func splitLLDB(tr *transcript) {
	tr.parts = make([]string, len(tr.cmds))
	rest := tr.all
	starts := make([]int, len(tr.cmds))
	offset := 0
	for i, c := range tr.cmds {
		echo := "(lldb) " + c + "\n"
		j := strings.Index(rest, echo)
		if j < 0 {
			starts[i] = -1
			continue
		}
		starts[i] = offset + j + len(echo)
		offset += j + len(echo)
		rest = rest[j+len(echo):]
	}
	for i, s := range starts {
		if s < 0 {
			continue
		}
		end := len(tr.all)
		for _, n := range starts[i+1:] {
			if n >= 0 {
				end = n - len("(lldb) "+tr.cmds[i+1]+"\n")
				break
			}
		}
		if end < s {
			end = s
		}
		tr.parts[i] = strings.TrimSpace(tr.all[s:end])
	}
}

// TestLLDBDebugsProgram drives lldb through a whole session: breakpoints
// by name and by file:line, continue, bt, frame variable, expression,
// next, finish, step into the shared library, registers, memory, thread
// list on four threads, and the exit status.
func TestLLDBDebugsProgram(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "lldb's dialect")
	needTool(t, "lldb")
	prog := needDual(t)
	s := startStub(t, stubOptions{prog: prog})
	afterLib := lineOf(t, "dual/dual.c", "after-lib")
	squareReturn := lineOf(t, "dual/dual.c", "square-return")
	callLib := lineOf(t, "dual/dual.c", "call-lib")
	libBody := lineOf(t, "dual/dual_lib.c", "lib-body")

	bFile := fmt.Sprintf("breakpoint set -f dual.c -l %d", afterLib)
	tr := runLLDB(t, prog,
		"gdb-remote "+s.target,
		"breakpoint set -n square",
		"continue",
		"bt",
		"frame variable",
		"expression v",
		"expression lib_scale(5)",
		"next",
		"frame variable sq",
		"finish",
		"next",
		"step",
		"bt",
		bFile,
		"continue",
		"frame variable scaled",
		"breakpoint set -n vec_loaded",
		"continue",
		"register read",
		"register read xmm0 ymm0 eax",
		"memory read -s4 -fx -c1 &global_counter",
		"breakpoint set -n all_started",
		"continue",
		"thread list",
		"continue",
	)
	tr.match("gdb-remote "+s.target, `stopped`)
	tr.match("breakpoint set -n square", `Breakpoint 1: where = dual`+"`"+`square`)
	tr.match("continue", `stop reason = breakpoint 1\.1[\s\S]*dual`+"`"+`square\(v=7\) at dual\.c`)
	tr.match("bt", `frame #0: .*dual`+"`"+`square\(v=7\)[\s\S]*frame #1: .*dual`+"`"+`main at dual\.c[\s\S]*libc\.so\.6`)
	tr.match("frame variable", `\(int\) v = 7`)
	tr.match("expression v", `\(int\) \$0 = 7`)
	tr.match("expression lib_scale(5)", `\(int\) \$1 = 15`)
	tr.match("next", fmt.Sprintf(`stop reason = step over[\s\S]*dual\.c:%d`, squareReturn))
	tr.match("frame variable sq", `\(int\) sq = 49`)
	tr.match("finish", `stop reason = step out[\s\S]*Return value: \(int\) \$2 = 49`)
	tr.match("next", fmt.Sprintf(`dual\.c:%d`, callLib), 2)
	tr.match("step", fmt.Sprintf(`stop reason = step in[\s\S]*libdual\.so`+"`"+`lib_scale\(x=49\) at dual_lib\.c:%d`, libBody))
	tr.match("bt", `frame #0: .*libdual\.so`+"`"+`lib_scale[\s\S]*frame #1: .*dual`+"`"+`main`, 2)
	tr.match(bFile, `Breakpoint 2: where = dual`+"`"+`main`)
	tr.match("continue", fmt.Sprintf(`stop reason = breakpoint 2\.1[\s\S]*dual\.c:%d`, afterLib), 2)
	tr.match("frame variable scaled", `\(int\) scaled = 147`)
	tr.match("continue", `stop reason = breakpoint 3\.1[\s\S]*vec_loaded`, 3)
	tr.match("register read", `rip = 0x[0-9a-f]+ +dual`+"`"+`vec_loaded`)
	tr.match("register read", `rsp = 0x[0-9a-f]{16}`)
	tr.match("register read xmm0 ymm0 eax", `xmm0 = \{0x11 0x11 0x11 0x11 0x22 0x22 0x22 0x22 0x33 0x33 0x33 0x33 0x44 0x44 0x44 0x44\}`)
	tr.match("register read xmm0 ymm0 eax", `ymm0 = \{0x11 (0x[0-9a-f]{2} ){15}0x55 0x55 0x55 0x55 0x66 0x66 0x66 0x66 0x77 0x77 0x77 0x77 0x88 0x88 0x88 0x88\}`)
	tr.match("register read xmm0 ymm0 eax", `eax = 0x[0-9a-f]{8}`)
	tr.match("memory read -s4 -fx -c1 &global_counter", `0x[0-9a-f]+: 0x00000098`)
	tr.match("continue", `stop reason = breakpoint 4\.1[\s\S]*all_started`, 4)
	m := tr.match("thread list", `(?m)^\* thread #1: tid = \d+, .*all_started`)
	if m != nil {
		if n := len(regexp.MustCompile(`(?m)^[ *] thread #\d+: tid = \d+`).FindAllString(tr.out("thread list"), -1)); n != 4 {
			t.Errorf("thread list shows %d threads, want 4", n)
		}
	}
	tr.match("continue", `exited with status = 3 \(0x00000003\)`, 5)
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("procgdb after the program exited: %v", err)
	}
}

// TestLLDBWatchpoint: lldb's watchpoints are the debug registers (Z2),
// and lldb finds which one stopped the program from the stop reply. Where
// the debug registers never trap, procgdb emulates them and the test
// passes the same.
func TestLLDBWatchpoint(t *testing.T) {
	prepare(t)
	testLLDBWatchpoint(t)
}

// TestLLDBWatchpointWithoutDebugRegisters: lldb's watchpoints work with
// procgdb's emulated write watchpoints too; lldb is told of as many as
// with the debug registers.
func TestLLDBWatchpointWithoutDebugRegisters(t *testing.T) {
	prepare(t)
	testLLDBWatchpoint(t, "--no-debug-registers")
}

func testLLDBWatchpoint(t *testing.T, flags ...string) {
	onlyProcgdb(t, "lldb's dialect")
	needTool(t, "lldb")
	prog := needDual(t)
	s := startStub(t, stubOptions{prog: prog, flags: flags})
	tr := runLLDB(t, prog,
		"gdb-remote "+s.target,
		"breakpoint set -n square",
		"continue",
		"watchpoint set variable global_counter",
		"continue",
		"continue",
	)
	tr.match("watchpoint set variable global_counter", `Watchpoint created: Watchpoint 1: addr = 0x[0-9a-f]+ size = 4 state = enabled type = w`)
	// The program stops just after the write (global_counter += scaled).
	tr.match("continue", `Watchpoint 1 hit:\s+old value: 5\s+new value: 152[\s\S]*stop reason = watchpoint 1[\s\S]*dual`+"`"+`main at dual\.c`, 2)
	tr.match("continue", `exited with status = 3 \(0x00000003\)`, 3)
}

// TestGDBDebugsDualProgram runs TestLLDBDebugsProgram's steps with gdb on
// the same program.
func TestGDBDebugsDualProgram(t *testing.T) {
	prepare(t)
	prog := needDual(t)
	s := startStub(t, stubOptions{prog: prog})
	afterLib := lineOf(t, "dual/dual.c", "after-lib")
	squareReturn := lineOf(t, "dual/dual.c", "square-return")
	callLib := lineOf(t, "dual/dual.c", "call-lib")
	libBody := lineOf(t, "dual/dual_lib.c", "lib-body")
	bFile := fmt.Sprintf("break dual.c:%d", afterLib)
	tr := runGDB(t, prog, "target remote "+s.target,
		"break square",
		"continue",
		"bt",
		"info args",
		"print v",
		"print lib_scale(5)",
		"next",
		"print sq",
		"finish",
		"next",
		"step",
		"bt",
		bFile,
		"continue",
		"print scaled",
		"break vec_loaded",
		"continue",
		"info registers rip rsp",
		"print/x $xmm0.v4_int32",
		"print/x $ymm0.v8_int32",
		"x/1wx &global_counter",
		"break all_started",
		"continue",
		"info threads",
		"continue",
	)
	tr.match("break square", `Breakpoint 1 at 0x[0-9a-f]+: file .*dual\.c`)
	tr.match("continue", `Breakpoint 1, square \(v=7\) at .*dual\.c`)
	tr.match("bt", `#0 +square \(v=7\)[\s\S]*#1 +0x[0-9a-f]+ in main \(\)`)
	tr.match("info args", `v = 7`)
	tr.match("print v", `\$1 = 7`)
	tr.match("print lib_scale(5)", `\$2 = 15`)
	tr.match("next", fmt.Sprintf(`^%d\s`, squareReturn))
	tr.match("print sq", `\$3 = 49`)
	tr.match("finish", `in main \(\)[\s\S]*Value returned is \$4 = 49`)
	tr.match("next", fmt.Sprintf(`^%d\s`, callLib), 2)
	tr.match("step", fmt.Sprintf(`lib_scale \(x=49\) at .*dual_lib\.c:%d`, libBody))
	tr.match("bt", `#0 +lib_scale \(x=49\)[\s\S]*#1 +0x[0-9a-f]+ in main \(\)`, 2)
	tr.match(bFile, `Breakpoint 2 at 0x[0-9a-f]+: file .*dual\.c, line \d+`)
	tr.match("continue", `Breakpoint 2, main \(\) at .*dual\.c`, 2)
	tr.match("print scaled", `\$5 = 147`)
	tr.match("continue", `Breakpoint 3, .*vec_loaded`, 3)
	tr.match("info registers rip rsp", `rip +0x[0-9a-f]+ +0x[0-9a-f]+ <vec_loaded`)
	tr.match("print/x $xmm0.v4_int32", `\{0x11111111, 0x22222222, 0x33333333, 0x44444444\}`)
	tr.match("print/x $ymm0.v8_int32", `\{0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666, 0x77777777, 0x88888888\}`)
	tr.match("x/1wx &global_counter", `<global_counter>:\s+0x00000098`)
	tr.match("continue", `Breakpoint 4, .*all_started`, 4)
	if n := len(regexp.MustCompile(`(?m)^[ *] +\d+ +Thread `).FindAllString(tr.out("info threads"), -1)); n != 4 {
		t.Errorf("info threads shows %d threads, want 4:\n%s", n, tr.out("info threads"))
	}
	tr.match("continue", `exited with code 03`, 5)
}

// TestSignalNumbersLLDBAndGDB checks that lldb and gdb both see SIGUSR1
// and SIGUSR2 by name and deliver them: lldb reads Linux's signal numbers,
// gdb its own, and the two differ for these signals.
func TestSignalNumbersLLDBAndGDB(t *testing.T) {
	prepare(t)
	t.Run("lldb", func(t *testing.T) {
		onlyProcgdb(t, "lldb's dialect")
		needTool(t, "lldb")
		s := startStub(t, stubOptions{prog: prog("usrsig")})
		// lldb --batch gives up at a stop by a signal, so the signals
		// only notify: lldb names each and passes it on.
		handle := "process handle -s false -n true -p true SIGUSR1 SIGUSR2"
		tr := runLLDB(t, prog("usrsig"), "gdb-remote "+s.target, handle, "continue")
		tr.match("continue", `received signal: SIGUSR1[\s\S]*received signal: SIGUSR2[\s\S]*exited with status = 2 `)
	})
	t.Run("gdb", func(t *testing.T) {
		s := startStub(t, stubOptions{prog: prog("usrsig")})
		tr := runGDB(t, prog("usrsig"), "target remote "+s.target, "continue", "continue", "continue")
		tr.match("continue", `received signal SIGUSR1`)
		tr.match("continue", `received signal SIGUSR2`, 2)
		tr.match("continue", `exited with code 02`, 3)
	})
}
