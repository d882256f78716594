package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// gdbDump serves the target with stub k and has gdb dump its memory region
// to a file with `dump binary memory`, timing that command alone (with
// gdb's Python) and checking the file against the pattern.
func gdbDump(res *results, k stubKind, prog string, cfg config, want []byte, dir string) error {
	out := filepath.Join(dir, "dump-"+k.name)
	secs, _, _, err := runGDB(k, prog, []string{fmt.Sprint(cfg.mib), fmt.Sprint(seedRead), "1"}, false,
		[]string{"continue"}, fmt.Sprintf("dump binary memory %s %#x %#x", out, base, base+len(want)), nil)
	if err != nil {
		return err
	}
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
