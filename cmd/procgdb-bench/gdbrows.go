package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// The gdb-driven rows: gdb 13 runs a command against the target through
// each stub, and gdb's own Python times that command alone, so what is
// measured is what a gdb user waits for.

// gdbCase is one gdb-driven row.
type gdbCase struct {
	metric string
	args   func(cfg config) []string // gdbtarget's arguments
	// setup runs before the timed command, which does count units of
	// work (steps, breakpoint hits, iterations).
	setup []string
	timed func(cfg config) (cmd string, count int)
	// check runs after the timed command; its output must match want,
	// so that a command that ended early is not taken for a fast one.
	check []string
	want  func(cfg config) string
	// native, when set, also times the program without a debugger
	// (the row's limit), with these gdbtarget arguments.
	native func(cfg config) []string
	// nonStop runs gdb with "set non-stop on".
	nonStop bool
	// optimized runs the program built with -O1.
	optimized bool
	// ownClock: the program times its loop of calls itself, and may
	// stop it early (gdbtarget's "calls N T S"), so that its start and
	// end, which cost more than thousands of hits in the process, do not
	// count, and a slow stub is measured on part of the calls.
	ownClock bool
}

// targetHits is how many hits the rows of breakpoints the stub decides
// (conditions, dprintf) ask for: issue 13's count.
const targetHits = 5000

// callsLimit bounds the loop of calls of an ownClock row, in seconds.
const callsLimit = "5"

// exitedNormally is what gdb says when a program runs to its end.
func exitedNormally(config) string { return `exited normally` }

var gdbCases = []gdbCase{
	{
		metric: "gdb stepi",
		args:   func(config) []string { return []string{"spin"} },
		// The breakpoint sits in the loop: gone before the steps.
		setup: []string{"break spin", "continue", "delete"},
		timed: func(cfg config) (string, int) { return fmt.Sprintf("stepi %d", cfg.gdbSteps), cfg.gdbSteps },
		// Still in spin, and stopped by the last step, not by anything else.
		check: []string{"print $_siginfo.si_code", "print $pc >= spin && $pc < loop"},
		want:  func(config) string { return `\$1 = 2\s+\$2 = 1` },
	},
	{
		metric: "gdb condition, evaluated by gdb",
		args:   func(cfg config) []string { return []string{"calls", fmt.Sprint(cfg.gdbHits), "0"} },
		setup:  []string{"set breakpoint condition-evaluation host", "break hit if v == -1"},
		timed:  func(cfg config) (string, int) { return "continue", cfg.gdbHits },
		want:   exitedNormally,
	},
	{
		metric:   "gdb condition, evaluated by the target",
		args:     func(cfg config) []string { return []string{"calls", fmt.Sprint(targetHits), "0", callsLimit} },
		setup:    []string{"set breakpoint condition-evaluation target", "break hit if v == -1"},
		timed:    func(cfg config) (string, int) { return "continue", targetHits },
		want:     exitedNormally,
		ownClock: true,
	},
	{
		metric: "gdb condition, 64 busy threads",
		args:   func(cfg config) []string { return []string{"calls", fmt.Sprint(cfg.busyHits), "64"} },
		setup:  []string{"set breakpoint condition-evaluation host", "break hit if v == -1"},
		timed:  func(cfg config) (string, int) { return "continue", cfg.busyHits },
		want:   exitedNormally,
	},
	{
		metric:   "gdb condition, evaluated by the target, 64 busy threads",
		args:     func(cfg config) []string { return []string{"calls", fmt.Sprint(targetHits), "64", callsLimit} },
		setup:    []string{"set breakpoint condition-evaluation target", "break hit if v == -1"},
		timed:    func(cfg config) (string, int) { return "continue", targetHits },
		want:     exitedNormally,
		ownClock: true,
	},
	{
		metric:    "gdb condition, evaluated by the target, 64 busy threads, -O1",
		args:      func(cfg config) []string { return []string{"calls", fmt.Sprint(targetHits), "64", callsLimit} },
		setup:     []string{"set breakpoint condition-evaluation target", "break hit if v == -1"},
		timed:     func(cfg config) (string, int) { return "continue", targetHits },
		want:      exitedNormally,
		ownClock:  true,
		optimized: true,
	},
	{
		metric:   "gdb dprintf, agent style",
		args:     func(cfg config) []string { return []string{"calls", fmt.Sprint(targetHits), "0", callsLimit} },
		setup:    []string{"set dprintf-style agent", `dprintf hit,"v=%d\n",v`},
		timed:    func(cfg config) (string, int) { return "continue", targetHits },
		want:     exitedNormally,
		ownClock: true,
	},
	{
		metric: smallNext,
		args:   func(config) []string { return []string{"loop", "5000"} },
		setup:  []string{"break loop", "continue"},
		timed:  func(config) (string, int) { return "next", 5000 },
		check:  []string{"print sink"},
		want:   func(config) string { return `\$1 = 37492500\b` },
		native: func(config) []string { return []string{"loop", "5000", "time"} },
	},
	{
		metric: bigNext,
		args:   func(config) []string { return []string{"loop", "1000000"} },
		setup:  []string{"break loop", "continue"},
		timed:  func(config) (string, int) { return "next", 1000000 },
		check:  []string{"print sink"},
		want:   func(config) string { return `\$1 = 1499998500000\b` },
		native: func(config) []string { return []string{"loop", "1000000", "time"} },
	},
	{
		// gdb reads memory (4 KiB of main's code, from the executable's
		// fixed address) while every thread runs.
		metric:  nonStopReads,
		nonStop: true,
		args:    func(cfg config) []string { return []string{"calls", "2000000000", "64"} },
		setup:   []string{"continue &", "python import time; time.sleep(0.5)"},
		timed: func(cfg config) (string, int) {
			return fmt.Sprintf("python [gdb.selected_inferior().read_memory(0x401000, 4096) for i in range(%d)]", cfg.gdbHits), cfg.gdbHits
		},
		check: []string{"info threads"},
		want:  func(config) string { return `\(running\)` },
	},
}

// nonStopReads is the gdb-driven non-stop row.
const nonStopReads = "gdb non-stop, memory read while 64 threads run"

var nativeRE = regexp.MustCompile(`LOOP ([0-9.]+)`)

// gdbRows measures every gdb-driven row with stub k.
func gdbRows(res *results, k stubKind, prog string, cfg config) error {
	nextRate := 0.0 // of the 5,000-iteration next, to predict the long one
	for _, c := range gdbCases {
		_, count := c.timed(cfg)
		if c.metric == bigNext && (nextRate == 0 || float64(count)/nextRate > slowestRow.Seconds()) {
			// Single-stepping a million iterations takes many minutes.
			res.markNA(k.name, c.metric)
			continue
		}
		secs, count, err := gdbTimed(k, prog, cfg, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.metric, err)
		}
		res.add(k.name, c.metric, float64(count)/secs)
		if c.metric == smallNext {
			nextRate = float64(count) / secs
		}
	}
	return nil
}

// The next rows: the long one runs only where the short one's rate says
// it ends within slowestRow.
const (
	smallNext  = "gdb next over a 5,000-iteration line"
	bigNext    = "gdb next over a 1,000,000-iteration line"
	slowestRow = 30 * time.Second
)

// gdbNative times the rows' programs without a debugger, once a run.
func gdbNative(res *results, prog string, cfg config) error {
	for _, c := range gdbCases {
		if c.native == nil {
			continue
		}
		out, err := exec.Command(prog, c.native(cfg)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s without a debugger: %v\n%s", c.metric, err, out)
		}
		m := nativeRE.FindSubmatch(out)
		if m == nil {
			return fmt.Errorf("%s without a debugger printed no time:\n%s", c.metric, out)
		}
		secs, _ := strconv.ParseFloat(string(m[1]), 64)
		_, count := c.timed(cfg)
		res.add("limit", c.metric, float64(count)/secs)
	}
	return nil
}

// gdbTimed runs case c with stub k and returns the timed command's
// seconds and units of work.
func gdbTimed(k stubKind, prog string, cfg config, c gdbCase) (float64, int, error) {
	cmd, count := c.timed(cfg)
	if c.optimized {
		prog += optimizedSuffix
	}
	secs, out, progOut, err := runGDB(k, prog, c.args(cfg), c.nonStop, c.setup, cmd, c.check)
	if err != nil {
		return 0, 0, err
	}
	if want := c.want(cfg); !regexp.MustCompile(want).Match(out) {
		return 0, 0, fmt.Errorf("gdb's output does not match %q:\n%s", want, out)
	}
	if c.ownClock {
		m := callsRE.FindStringSubmatch(progOut)
		if m == nil {
			return 0, 0, fmt.Errorf("the program timed no calls:\n%s", progOut)
		}
		count, _ = strconv.Atoi(m[1])
		secs, err = strconv.ParseFloat(m[2], 64)
	}
	return secs, count, err
}

var callsRE = regexp.MustCompile(`CALLS (\d+) ([0-9.]+)`)

var timedRE = regexp.MustCompile(`TIMED ([0-9.]+)`)

// runGDB serves prog (with progArgs) with stub k and runs gdb in batch
// mode (in non-stop mode if nonStop): the setup commands, then cmd, timed
// by gdb's own Python, then the check commands. It returns cmd's seconds
// and gdb's output, and what the stub and the program printed.
func runGDB(k stubKind, prog string, progArgs []string, nonStop bool, setup []string, cmd string, check []string) (float64, []byte, string, error) {
	p, err := startStub(k, prog, progArgs)
	if err != nil {
		return 0, nil, "", err
	}
	defer p.stop()
	if err := waitListening(p); err != nil {
		return 0, nil, "", err
	}
	// The local files are the target's: no transfers before the timing.
	args := []string{"-nx", "-batch", "-ex", "set confirm off", "-ex", "set pagination off", "-ex", "set sysroot /"}
	if nonStop {
		args = append(args, "-ex", "set non-stop on")
	}
	args = append(args, "-ex", "target remote "+p.addr)
	for _, s := range setup {
		args = append(args, "-ex", s)
	}
	args = append(args,
		"-ex", "python import time; t0 = time.perf_counter()",
		"-ex", cmd,
		"-ex", `python print("TIMED %f" % (time.perf_counter() - t0))`)
	for _, s := range check {
		args = append(args, "-ex", s)
	}
	args = append(args, prog) // gdb kills what is left of the program as it exits
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gdb", args...).CombinedOutput()
	if err != nil {
		return 0, nil, "", fmt.Errorf("gdb: %v\n%s", err, out)
	}
	m := timedRE.FindSubmatch(out)
	if m == nil {
		return 0, nil, "", fmt.Errorf("gdb printed no time:\n%s", out)
	}
	secs, err := strconv.ParseFloat(string(m[1]), 64)
	p.stop() // the program's output is complete once the stub has ended
	return secs, out, p.out.String(), err
}

// compileGDBTarget compiles gdbtarget.c for the gdb-driven rows, as is
// and with -O1 (optimizedSuffix).
func compileGDBTarget(dir string) (string, error) {
	src, prog := filepath.Join(dir, "gdbtarget.c"), filepath.Join(dir, "gdbtarget")
	if err := os.WriteFile(src, []byte(gdbTargetSource), 0o644); err != nil {
		return "", err
	}
	for _, b := range []struct{ opt, out string }{{"-O0", prog}, {"-O1", prog + optimizedSuffix}} {
		if out, err := exec.Command("gcc", b.opt, "-g", "-no-pie", "-pthread", "-o", b.out, src).CombinedOutput(); err != nil {
			return "", fmt.Errorf("gcc: %v\n%s", err, out)
		}
	}
	return prog, nil
}

// optimizedSuffix names gdbtarget built with -O1, where the first
// instruction of hit()'s line is long enough for procgdb's jump to the
// condition compiled into the process (at -O0 it is a 3-byte load from
// the stack, which the jump covers with the next instruction's bytes
// unchanged, its pad in a window of its own).
const optimizedSuffix = "-O1"
