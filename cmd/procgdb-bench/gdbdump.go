package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var dumpTime = regexp.MustCompile(`DUMP ([0-9.]+)`)

// gdbDump serves the target with stub k and has gdb dump its memory region
// to a file with `dump binary memory`, timing that command alone (with
// gdb's Python) and checking the file against the pattern.
func gdbDump(res *results, k stubKind, prog string, cfg config, want []byte, dir string) error {
	if _, err := exec.LookPath("gdb"); err != nil {
		return nil
	}
	p, err := startStub(k, prog, []string{fmt.Sprint(cfg.mib), fmt.Sprint(seedRead), "1"})
	if err != nil {
		return err
	}
	defer p.stop()
	if err := waitListening(p); err != nil {
		return err
	}
	out := filepath.Join(dir, "dump-"+k.name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gdb", "-nx", "-batch",
		"-ex", "set confirm off",
		"-ex", "target remote "+p.addr,
		"-ex", "continue",
		"-ex", "python import time; t0 = time.perf_counter()",
		"-ex", fmt.Sprintf("dump binary memory %s %#x %#x", out, base, base+len(want)),
		"-ex", `python print("DUMP %f" % (time.perf_counter() - t0))`,
		"-ex", "kill",
		prog)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("gdb: %v\n%s", err, b)
	}
	m := dumpTime.FindSubmatch(b)
	if m == nil {
		return fmt.Errorf("gdb printed no time:\n%s", b)
	}
	secs, _ := strconv.ParseFloat(string(m[1]), 64)
	got, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	os.Remove(out)
	if err := verify("gdb dump", got, want); err != nil {
		return err
	}
	res.add(k.name, "gdb dump binary memory", float64(len(want))/1e6/secs)
	return nil
}

// waitListening waits until the stub prints that it listens (procgdb and
// gdbserver print gdbserver's line).
func waitListening(p *stubProc) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(p.out.String(), "Listening on port") {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not start listening:\n%s", p.kind.name, p.out.String())
}
