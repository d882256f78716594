// Command procgdb-bench compares procgdb with gdbserver and lldb-server
// (whichever are installed) on the same small C target, speaking each
// stub's dialect through rsp.Client, and prints one table: memory read and
// write bandwidth, scattered reads, breakpoint hits, single steps, g and p,
// each stub's own CPU time per operation and its peak RSS, beside the
// machine's limits (process_vm_readv and loopback TCP bandwidth, and the
// least CPU a tracer spends on a single step) measured in the same run,
// gdb's `dump binary memory` through procgdb and gdbserver, and (as root)
// the --proc-dir daemon: process start to socket, connect to first stop
// reply against gdbserver --attach, and the daemon's CPU and memory while
// 1,000 processes come and go.
//
//	go run ./cmd/procgdb-bench            # five runs per stub
//	go run ./cmd/procgdb-bench -short     # one quick run, under a minute
//	go run ./cmd/procgdb-bench -runs 0    # the --proc-dir daemon's rows alone
//
// Stubs take turns run by run; each figure is the median of the runs.
// Every result is checked: reads against the pattern the target generated
// from a seed, writes by reading them back, breakpoint hits against the
// target's own counter.
package main

import (
	"context"
	"debug/elf"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

//go:embed csrc/target.c
var targetSource string

//go:embed csrc/gdbtarget.c
var gdbTargetSource string

type config struct {
	runs      int
	mib       int // size of the memory region, MiB
	scattered int
	regOps    int
	hits      int
	steps     int
	// The gdb-driven rows: stepi count, breakpoint hits with a false
	// condition (and with 64 busy threads, evaluated by gdb and by the
	// target), dprintf calls.
	gdbSteps, gdbHits, busyHits int
	gdb                         bool
	daemon                      bool // measure procgdb --proc-dir (daemonRows)
	stubs                       string
	// budget bounds each bulk read or write; a slow stub is measured on
	// the part of the region it gets through.
	budget time.Duration
}

func main() {
	cfg := config{}
	short := flag.Bool("short", false, "one run with smaller counts (under a minute)")
	flag.IntVar(&cfg.runs, "runs", 5, "runs per stub; stubs take turns run by run (0: only the daemon's rows)")
	flag.StringVar(&cfg.stubs, "stubs", "", "comma-separated stubs to compare (default: procgdb and every one installed)")
	flag.DurationVar(&cfg.budget, "budget", 8*time.Second, "time limit of each bulk read or write (slow stubs are measured on part of the region)")
	flag.BoolVar(&cfg.gdb, "gdb", true, "also time gdb's dump binary memory through procgdb and gdbserver")
	flag.BoolVar(&cfg.daemon, "daemon", true, "also measure procgdb --proc-dir, once (needs root)")
	procgdb := flag.String("procgdb", "", "procgdb binary to measure (default: build ./cmd/procgdb)")
	env := flag.String("procgdb-env", "", "comma-separated VAR=VALUE added to procgdb's environment, e.g. GOMAXPROCS=1")
	flag.Parse()
	if *env != "" {
		procgdbEnv = strings.Split(*env, ",")
	}
	cfg.mib, cfg.scattered, cfg.regOps, cfg.hits, cfg.steps = 64, 10000, 10000, 2000, 5000
	cfg.gdbSteps, cfg.gdbHits, cfg.busyHits = 2000, 2000, 20
	if *short {
		if !flagSet("runs") {
			cfg.runs = 1
		}
		cfg.scattered, cfg.regOps, cfg.hits, cfg.steps = 10000, 5000, 1000, 2000
		cfg.gdbSteps, cfg.gdbHits, cfg.busyHits = 1000, 500, 10
		if !flagSet("budget") {
			cfg.budget = 3 * time.Second
		}
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		cfg.gdb = false
	}
	if err := run(cfg, *procgdb); err != nil {
		fmt.Fprintln(os.Stderr, "procgdb-bench:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func run(cfg config, procgdb string) error {
	dir, err := os.MkdirTemp("", "procgdb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prog, err := compileTarget(dir)
	if err != nil {
		return err
	}
	if procgdb == "" {
		procgdb = filepath.Join(dir, "procgdb")
		if out, err := exec.Command("go", "build", "-o", procgdb, "procgdb/cmd/procgdb").CombinedOutput(); err != nil {
			return fmt.Errorf("go build procgdb: %v\n%s", err, out)
		}
	}
	bp, hits, err := symbols(prog)
	if err != nil {
		return err
	}
	gdbProg, err := compileGDBTarget(dir)
	if err != nil {
		return err
	}
	stubs := findStubs(procgdb, cfg.stubs)
	fmt.Printf("procgdb-bench: %d run(s); stubs:", cfg.runs)
	for _, s := range stubs {
		fmt.Printf(" %s (%s)", s.name, s.path)
	}
	fmt.Printf("\nmachine: %d CPUs, %s, %s\n\n", runtime.NumCPU(), cpuModel(), kernel())

	size := cfg.mib << 20
	want := make([]byte, size)
	fillPattern(want, seedRead)
	wantW := make([]byte, size)
	fillPattern(wantW, seedWrite)
	got := make([]byte, size)

	res := newResults()
	for r := range cfg.runs {
		// Limits first, then the stubs in turn, starting one further each run.
		pvr, err := pvReadBandwidth(prog, cfg.mib)
		if err != nil {
			return fmt.Errorf("process_vm_readv limit: %w", err)
		}
		res.add("limit", "process_vm_readv 64 MiB", pvr)
		tcp, err := loopbackBandwidth(256 << 20)
		if err != nil {
			return fmt.Errorf("loopback limit: %w", err)
		}
		res.add("limit", "loopback TCP", tcp)
		floor, err := stepFloor(prog, 20000)
		if err != nil {
			return fmt.Errorf("single-step floor: %w", err)
		}
		res.add("limit", "single step", floor)
		if err := gdbNative(res, gdbProg, cfg); err != nil {
			return err
		}
		for i := range stubs {
			k := stubs[(i+r)%len(stubs)]
			fmt.Fprintf(os.Stderr, "run %d/%d: %s\n", r+1, cfg.runs, k.name)
			if err := runStub(cfg, res, k, prog, bp, hits, want, wantW, got); err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, k.name, err)
			}
			if err := threadRows(res, k, gdbProg, cfg); err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, k.name, err)
			}
			if err := nonStopRow(res, k, gdbProg, cfg); err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, k.name, err)
			}
			if cfg.gdb && !k.lldb {
				if err := gdbDump(res, k, prog, cfg, want, dir); err != nil {
					return fmt.Errorf("run %d, gdb with %s: %w", r+1, k.name, err)
				}
				if err := gdbRows(res, k, gdbProg, cfg); err != nil {
					return fmt.Errorf("run %d, gdb with %s: %w", r+1, k.name, err)
				}
			}
		}
	}
	if cfg.daemon && os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "procgdb --proc-dir")
		if err := daemonRows(res, procgdb); err != nil {
			return fmt.Errorf("procgdb --proc-dir: %w", err)
		}
	} else if cfg.daemon {
		fmt.Fprintln(os.Stderr, "procgdb --proc-dir not measured: it serves every user's processes as root")
	}
	if cfg.runs > 0 {
		res.print(os.Stdout, stubs, cfg)
	}
	res.printDaemon(os.Stdout)
	return nil
}

// Seeds of the pattern the target generates and of the one written.
const (
	seedRead  = 0x5eed0001
	seedWrite = 0x5eed0002
)

// compileTarget writes target.c and compiles it without PIE, so that its
// symbols are at fixed addresses.
func compileTarget(dir string) (string, error) {
	src, prog := filepath.Join(dir, "target.c"), filepath.Join(dir, "target")
	if err := os.WriteFile(src, []byte(targetSource), 0o644); err != nil {
		return "", err
	}
	if out, err := exec.Command("gcc", "-O1", "-g", "-no-pie", "-o", prog, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v\n%s", err, out)
	}
	return prog, nil
}

// symbols returns the addresses of bp() and hits in the target.
func symbols(prog string) (bp, hits uint64, err error) {
	f, err := elf.Open(prog)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, 0, err
	}
	for _, s := range syms {
		switch s.Name {
		case "bp":
			bp = s.Value
		case "hits":
			hits = s.Value
		}
	}
	if bp == 0 || hits == 0 {
		return 0, 0, fmt.Errorf("%s: no bp or hits symbol", prog)
	}
	return bp, hits, nil
}

// runStub starts stub k on the target and measures every operation once.
func runStub(cfg config, res *results, k stubKind, prog string, bp, hitsAddr uint64, want, wantW, got []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := startSession(ctx, k, prog, []string{fmt.Sprint(cfg.mib), fmt.Sprint(seedRead), fmt.Sprint(cfg.hits)})
	if err != nil {
		return err
	}
	defer s.close()
	size := len(want)

	// rec runs op, which returns how many units it did (MB or
	// operations), and records units per second and the stub's CPU time
	// per unit.
	rec := func(metric string, op func() (float64, error)) error {
		var units float64
		wall, cpu, err := s.measure(func() error {
			var err error
			units, err = op()
			return err
		})
		if err != nil {
			if err == errNA {
				res.markNA(k.name, metric)
				return nil
			}
			return fmt.Errorf("%s: %w", metric, err)
		}
		res.add(k.name, metric, units/wall.Seconds())
		res.add(k.name, metric+" cpu", float64(cpu.Nanoseconds())/1e3/units)
		return nil
	}
	count := func(n int, op func() error) func() (float64, error) {
		return func() (float64, error) { return float64(n), op() }
	}
	budget := cfg.budget
	// bulk measures a read or write of the region within the budget.
	bulk := func(metric string, f func([]byte, bool, time.Duration) (int, error), buf []byte, binary bool) (int, error) {
		n := 0
		err := rec(metric, func() (float64, error) {
			var err error
			n, err = f(buf, binary, budget)
			return float64(n) / 1e6, err
		})
		return n, err
	}

	// Reads, checked against the pattern.
	n, err := bulk("m read", s.readAll, got, false)
	if err != nil {
		return err
	}
	if err := verify("m read", got[:n], want[:n]); err != nil {
		return err
	}
	if s.xRead {
		clear(got)
		n, err := bulk("x read", s.readAll, got, true)
		if err != nil {
			return err
		}
		if err := verify("x read", got[:n], want[:n]); err != nil {
			return err
		}
	} else {
		res.markNA(k.name, "x read")
	}
	if err := rec("scattered 8-byte m", count(cfg.scattered, func() error {
		return s.scattered(cfg.scattered, size, seedRead)
	})); err != nil {
		return err
	}

	// Writes, each checked by reading it back.
	n, err = bulk("M write", s.writeAll, wantW, false)
	if err != nil {
		return err
	}
	if _, err := s.readAll(got[:n], s.xRead, 0); err != nil {
		return err
	}
	if err := verify("M write", got[:n], wantW[:n]); err != nil {
		return err
	}
	if s.xWrite {
		n, err := bulk("X write", s.writeAll, want, true)
		if err != nil {
			return err
		}
		if _, err := s.readAll(got[:n], s.xRead, 0); err != nil {
			return err
		}
		if err := verify("X write", got[:n], want[:n]); err != nil {
			return err
		}
	} else {
		res.markNA(k.name, "X write")
	}

	// Registers, at the first stop.
	if err := rec("g", count(cfg.regOps, func() error { return s.registers(cfg.regOps) })); err != nil {
		return err
	}
	if err := rec("p", count(cfg.regOps, func() error { return s.register(cfg.regOps) })); err != nil {
		return err
	}

	// Breakpoint hits, then on to the second stop, checked by the
	// target's counter.
	if err := rec("breakpoint hit", count(cfg.hits, func() error { return s.breakpointHits(bp, cfg.hits) })); err != nil {
		return err
	}
	if err := s.checkHits(bp, hitsAddr, cfg.hits); err != nil {
		return err
	}
	if err := rec("single step", count(cfg.steps, func() error { return s.steps(cfg.steps) })); err != nil {
		return err
	}

	rss, err := peakRSS(s.pid)
	if err != nil {
		return err
	}
	res.add(k.name, "peak RSS", float64(rss)/(1<<20))
	return nil
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "Linux " + strings.TrimSpace(string(b))
}
