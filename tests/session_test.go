//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"procgdb/target"
)

// startBasic serves testdata/basic.c, which writes its report to the
// returned file.
func startBasic(t *testing.T) (*stub, string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{prog: prog("basic"), args: []string{report}})
	return s, report
}

// checkBasicReport fails the test unless testdata/basic.c, run to its end
// undisturbed, wrote its report to file.
func checkBasicReport(t *testing.T, file string) {
	t.Helper()
	if got, want := strings.TrimSpace(readFile(t, file)), "sum=47 counter=5 local=42"; got != want {
		t.Errorf("the program reported %q, want %q", got, want)
	}
}

// atLine returns a pattern for gdb's "at FILE:LINE" of a stop location.
func atLine(file string, line int) string {
	return fmt.Sprintf(`at \S*%s:%d(\n|$)`, regexp.QuoteMeta(file), line)
}

// exitedRE is how gdb reports that the inferior exited with code.
func exitedRE(code int) string {
	if code == 0 {
		return `\[Inferior 1 \(process \d+\) exited normally\]`
	}
	return fmt.Sprintf(`\[Inferior 1 \(process \d+\) exited with code %02o\]`, code)
}

func TestBreakpoints(t *testing.T) {
	prepare(t)
	callAdd := lineOf(t, "basic.c", "call-add")
	putsCall := lineOf(t, "basic.c", "puts-call")
	mainFirst := lineOf(t, "basic.c", "main-first")
	// puts from libc, with or without libc's debug information.
	const putsHit = `Breakpoint \d+, (0x[0-9a-f]+ in )?(__GI__IO_puts|_IO_puts|puts) \(`

	tests := []struct {
		name  string
		cmds  []string
		check func(tr *transcript)
	}{{
		name: "main",
		cmds: []string{"break main", "continue", "bt"},
		check: func(tr *transcript) {
			tr.match("continue", `Breakpoint 1, main \(argc=2, argv=0x[0-9a-f]+\) `+atLine("basic.c", mainFirst))
			tr.match("bt", `^#0\s+main \(argc=2, argv=0x[0-9a-f]+\) `+atLine("basic.c", mainFirst))
		},
	}, {
		name: "file:line",
		cmds: []string{fmt.Sprintf("break basic.c:%d", callAdd), "continue", "bt"},
		check: func(tr *transcript) {
			tr.match(fmt.Sprintf("break basic.c:%d", callAdd), fmt.Sprintf(`Breakpoint 1 at 0x[0-9a-f]+: file \S*basic.c, line %d\.`, callAdd))
			tr.match("continue", `Breakpoint 1, main \(.*\) `+atLine("basic.c", callAdd)+
				fmt.Sprintf(`%d\s+int sum = add\(local, counter\);`, callAdd))
			tr.match("bt", `^#0\s+main \(.*\) `+atLine("basic.c", callAdd))
		},
	}, {
		// The library is loaded when main runs: gdb must have learnt of
		// it (qXfer:libraries-svr4 or the dynamic linker's list).
		name: "puts after main",
		cmds: []string{"break main", "continue", "info sharedlibrary", "break puts", "continue", "bt"},
		check: func(tr *transcript) {
			tr.match("info sharedlibrary", `(?m)^0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes.*\s\S*/libc\.so\.6$`)
			tr.match("continue", putsHit, 2)
			tr.match("bt", fmt.Sprintf(`(?m)^#1\s+0x[0-9a-f]+ in main \(.*\) at \S*basic\.c:%d$`, putsCall))
		},
	}, {
		// Set before libc is loaded: gdb first resolves puts to the PLT
		// stub and moves the breakpoint into libc when it is loaded.
		name: "puts from the start",
		cmds: []string{"break puts", "continue", "bt", "continue"},
		check: func(tr *transcript) {
			tr.match("continue", putsHit)
			tr.match("bt", fmt.Sprintf(`(?m)^#1\s+0x[0-9a-f]+ in main \(.*\) at \S*basic\.c:%d$`, putsCall))
			tr.match("continue", exitedRE(7), 2)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prepare(t)
			s, _ := startBasic(t)
			tt.check(s.gdb(tt.cmds...))
		})
	}
}

func TestPrint(t *testing.T) {
	prepare(t)
	callAdd := lineOf(t, "basic.c", "call-add")
	s, report := startBasic(t)
	tr := s.gdb(
		fmt.Sprintf("break %d", callAdd),
		"continue",
		"print local",
		"print counter",
		"print pattern[3]",
		"print argv[1]",
		"print $rip",
		"info line *$rip",
		"print $rip == $pc",
		"print $sp == $rsp",
	)
	tr.match("continue", atLine("basic.c", callAdd))
	tr.match("print local", `^\$\d+ = 42$`)
	tr.match("print counter", `^\$\d+ = 5$`)
	tr.match("print pattern[3]", `^\$\d+ = 51 '3'$`)
	tr.match("print argv[1]", `^\$\d+ = 0x[0-9a-f]+ "`+regexp.QuoteMeta(report)+`"$`)
	tr.match("print $rip", `^\$\d+ = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <main\+\d+>$`)
	tr.match("info line *$rip", fmt.Sprintf(`^Line %d of "\S*basic\.c" starts at address 0x[0-9a-f]+ <main\+\d+>`, callAdd))
	tr.match("print $rip == $pc", `^\$\d+ = 1$`)
	tr.match("print $sp == $rsp", `^\$\d+ = 1$`)
}

// hasAVX reports whether the CPU and kernel offer AVX (ymm registers).
func hasAVX(t *testing.T) bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^flags\s*:.*\savx(\s|$)`).Match(b)
}

func TestVectorRegisters(t *testing.T) {
	prepare(t)
	if !hasAVX(t) {
		t.Skip("this CPU has no AVX")
	}
	s, _ := startBasic(t)
	tr := s.gdb(
		"break vec_loaded",
		"continue",
		"print/x $ymm0.v8_int32",
		"print/x $xmm0.v4_int32",
		"print $xmm0.v2_int64[1] == 0x4444444433333333",
		"info registers rip",
	)
	tr.match("continue", `Breakpoint 1, vec_loaded \(\)`)
	tr.match("print/x $ymm0.v8_int32", `^\$\d+ = \{0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666, 0x77777777, 0x88888888\}$`)
	tr.match("print/x $xmm0.v4_int32", `^\$\d+ = \{0x11111111, 0x22222222, 0x33333333, 0x44444444\}$`)
	tr.match("print $xmm0.v2_int64[1] == 0x4444444433333333", `^\$\d+ = 1$`)
	tr.match("info registers rip", `^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <vec_loaded\+\d+>$`)
}

func TestSetVar(t *testing.T) {
	prepare(t)
	callAdd := lineOf(t, "basic.c", "call-add")
	s, report := startBasic(t)
	tr := s.gdb(
		fmt.Sprintf("break %d", callAdd),
		"continue",
		"set var counter = 100",
		"set var local = 1",
		"print counter",
		"print local",
		"continue",
	)
	tr.match("print counter", `^\$\d+ = 100$`)
	tr.match("print local", `^\$\d+ = 1$`)
	tr.match("continue", exitedRE(7), 2)
	if got, want := strings.TrimSpace(readFile(t, report)), "sum=101 counter=100 local=1"; got != want {
		t.Errorf("the program reported %q after set var, want %q", got, want)
	}
}

func TestStepping(t *testing.T) {
	prepare(t)
	callAdd := lineOf(t, "basic.c", "call-add")
	addBody := lineOf(t, "basic.c", "add-body")
	addReturn := lineOf(t, "basic.c", "add-return")
	afterAdd := lineOf(t, "basic.c", "after-add")
	s, report := startBasic(t)
	tr := s.gdb(
		fmt.Sprintf("break %d", callAdd),
		"continue",
		"step",
		"next",
		"print sum",
		"print/x $pc",
		"stepi",
		"print/x $pc",
		"finish",
		"next",
		"print sum",
		"continue",
	)
	tr.match("step", fmt.Sprintf(`^add \(a=42, b=5\) at \S*basic\.c:%d\n%d\s`, addBody, addBody))
	tr.match("next", fmt.Sprintf(`^%d\s+return sum;`, addReturn))
	tr.match("print sum", `^\$\d+ = 47$`)
	before := tr.match("print/x $pc", `^\$\d+ = (0x[0-9a-f]+)$`)
	after := tr.match("print/x $pc", `^\$\d+ = (0x[0-9a-f]+)$`, 2)
	if before != nil && after != nil {
		b, _ := strconv.ParseUint(before[1], 0, 64)
		a, _ := strconv.ParseUint(after[1], 0, 64)
		// One instruction of add: forward, and no further than an
		// instruction's maximal length.
		if a <= b || a-b > 15 {
			t.Errorf("stepi moved pc from %#x to %#x", b, a)
		}
	}
	// ("Run till exit from" is printed only for commands typed at a terminal.)
	tr.match("finish", fmt.Sprintf(`main \(.*\) at \S*basic\.c:%d\n`, callAdd))
	tr.match("finish", `Value returned is \$\d+ = 47`)
	tr.match("next", fmt.Sprintf(`^%d\s+FILE \*out = stdout;`, afterAdd), 2)
	tr.match("print sum", `^\$\d+ = 47$`, 2)
	tr.match("continue", exitedRE(7), 2)
	checkBasicReport(t, report)
}

func TestExamineMemory(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	tr := s.gdb("break main", "continue", "x/16xb pattern", "x/4xb 0")
	out := tr.out("x/16xb pattern")
	var got []string
	for _, l := range scanLines(out) {
		m := regexp.MustCompile(`^0x[0-9a-f]+ <pattern(\+\d+)?>:\s+(.*)$`).FindStringSubmatch(l)
		if m == nil {
			t.Errorf("x/16xb printed an unexpected line %q", l)
			continue
		}
		got = append(got, strings.Fields(m[2])...)
	}
	want := strings.Fields("0x00 0x11 0x22 0x33 0x44 0x55 0x66 0x77 0x88 0x99 0xaa 0xbb 0xcc 0xdd 0xee 0xff")
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("x/16xb pattern: got %v, want %v", got, want)
	}
	// The first page is never mapped: the read fails and the session goes on.
	tr.match("x/4xb 0", `Cannot access memory at address 0x0`)
}

func TestSoftwareWatchpoint(t *testing.T) {
	prepare(t)
	watchSet := lineOf(t, "basic.c", "watch-set")
	s, _ := startBasic(t)
	tr := s.gdb(
		"break main",
		"continue",
		"set can-use-hw-watchpoints 0",
		"watch watched",
		"continue",
		"continue",
		"delete",
		"continue",
	)
	tr.match("watch watched", `^Watchpoint 2: watched$`)
	tr.match("continue", `Watchpoint 2: watched\s+Old value = 0\s+New value = 1\s+`+
		fmt.Sprintf(`main \(.*\) at \S*basic\.c:%d\n`, watchSet+1), 2)
	tr.match("continue", `Watchpoint 2: watched\s+Old value = 1\s+New value = 2\s`, 3)
	tr.match("continue", exitedRE(7), 4)
}

// needDebugRegisters skips a test of the debug registers where this
// machine does not deliver their traps (to procgdb, gdbserver or gdb),
// with the probe's reason.
func needDebugRegisters(t *testing.T) {
	t.Helper()
	if ok, reason := probeDebugRegisters(); !ok {
		t.Skipf("debug registers do not trap on this machine: %s", reason)
	}
}

var probeDebugRegisters = sync.OnceValues(target.ProbeDebugRegisters)

// TestHardwareWatchpoint: gdb's watch, awatch and hbreak use the debug
// registers (Z2, Z4, Z1), and each stops where the hardware says.
func TestHardwareWatchpoint(t *testing.T) {
	prepare(t)
	needDebugRegisters(t)
	watchSet := lineOf(t, "basic.c", "watch-set")
	addBody := lineOf(t, "basic.c", "add-body")
	s, _ := startBasic(t)
	tr := s.gdb(
		"break main",
		"continue",
		"watch watched",
		"continue",
		"delete 2",
		"awatch watched",
		"continue",
		"delete",
		"hbreak add",
		"continue",
		"delete",
		"continue",
	)
	tr.match("watch watched", `^Hardware watchpoint 2: watched$`)
	tr.match("continue", `Hardware watchpoint 2: watched\s+Old value = 0\s+New value = 1\s+`+
		fmt.Sprintf(`main \(.*\) at \S*basic\.c:%d\n`, watchSet+1), 2)
	tr.match("awatch watched", `^Hardware access \(read/write\) watchpoint 3: watched$`)
	tr.match("continue", `Hardware access \(read/write\) watchpoint 3: watched\s+Old value = 1\s+New value = 2\s`, 3)
	tr.match("hbreak add", `^Hardware assisted breakpoint 4 at 0x[0-9a-f]+: file \S*basic\.c, line \d+\.$`)
	tr.match("continue", `Breakpoint 4, add \(a=42, b=5\) at \S*basic\.c:`+fmt.Sprint(addBody), 4)
	tr.match("continue", exitedRE(7), 5)
}

// TestWatchpointWithoutDebugRegisters: without debug registers (where
// their traps never arrive, or --no-debug-registers), gdb's watch with
// hardware watchpoints allowed still stops after each write: procgdb
// emulates the write watchpoint. hbreak and awatch are refused the way
// gdb expects of a stub without them, and the program runs on.
func TestWatchpointWithoutDebugRegisters(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "--no-debug-registers")
	watchSet := lineOf(t, "basic.c", "watch-set")
	report := filepath.Join(t.TempDir(), "report")
	s := startStub(t, stubOptions{prog: prog("basic"), args: []string{report}, flags: []string{"--no-debug-registers"}})
	tr := s.gdb(
		"break main",
		"continue",
		"watch watched",
		"continue",
		"continue",
		"delete 2",
		"hbreak add",
		"continue",
		"delete",
		"awatch watched",
		"continue",
		"delete",
		"continue",
	)
	tr.match("watch watched", `^Hardware watchpoint 2: watched$`)
	tr.match("continue", `Hardware watchpoint 2: watched\s+Old value = 0\s+New value = 1\s+`+
		fmt.Sprintf(`main \(.*\) at \S*basic\.c:%d\n`, watchSet+1), 2)
	tr.match("continue", `Hardware watchpoint 2: watched\s+Old value = 1\s+New value = 2\s`, 3)
	tr.match("continue", `Cannot insert hardware breakpoint 3\.`, 4)
	tr.match("continue", `Could not insert hardware watchpoint 4\.`, 5)
	tr.match("continue", exitedRE(7), 6)
	checkBasicReport(t, report)
}

func TestExitCode(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	tr := s.gdb("continue")
	m := tr.match("continue", `\[Inferior 1 \(process (\d+)\) exited with code 07\]`)
	if m != nil && m[1] != strconv.Itoa(s.pid) {
		t.Errorf("gdb reports process %s exited, the stub created %d", m[1], s.pid)
	}
	s.waitStderr(`^Child exited with status 7$`)
}

// TestRegisters checks the registers of the target description's linux
// feature and a register write.
func TestRegisters(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	tr := s.gdb(
		"break main",
		"continue",
		"info registers orig_rax fs_base gs_base",
		"print $orig_rax",
		"print $fs_base != 0",
		"print $eflags",
		// rax is dead at the start of main at -O0.
		"set var $rax = 0x1122334455667788",
		"print/x $rax",
		"print/x $eax",
		"continue",
	)
	tr.match("info registers orig_rax fs_base gs_base", `(?m)^orig_rax\s+0x[0-9a-f]+\s+-?\d+\nfs_base\s+0x[0-9a-f]+\s+\d+\ngs_base\s+0x[0-9a-f]+\s+\d+$`)
	// A breakpoint stop is not in a system call.
	tr.match("print $orig_rax", `^\$\d+ = -1$`)
	// glibc has set up thread-local storage by the time main runs.
	tr.match("print $fs_base != 0", `^\$\d+ = 1$`)
	tr.match("print $eflags", `^\$\d+ = \[ .*IF.* \]$`)
	tr.match("print/x $rax", `^\$\d+ = 0x1122334455667788$`)
	tr.match("print/x $eax", `^\$\d+ = 0x55667788$`)
	tr.match("continue", exitedRE(7), 2)
	checkBasicReport(t, report)
}
