package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"procgdb/examples/internal/extest"
)

// counter is examples/testdata/counter.c, compiled by TestMain.
var counter string

func TestMain(m *testing.M) {
	os.Exit(extest.Main(m, &counter))
}

// startCounter starts counter waiting to be attached to; closing its
// input ends it.
func startCounter() (*exec.Cmd, io.WriteCloser, int, error) {
	cmd := exec.Command(counter, "wait")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, 0, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, 0, err
	}
	var pid int
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "ready pid=%d", &pid); err != nil || serr != nil {
		cmd.Process.Kill()
		return nil, nil, 0, fmt.Errorf("counter said %q: %v %v", line, err, serr)
	}
	return cmd, in, pid, nil
}

// snapshotOf takes a snapshot of a waiting counter with stub, checks that
// the process runs on to a normal exit, and returns the name of the copy
// of a mapping that holds counter.c's marker, without its addresses.
func snapshotOf(stub string) (string, error) {
	cmd, in, pid, err := startCounter()
	if err != nil {
		return "", err
	}
	defer cmd.Process.Kill()
	dir, err := os.MkdirTemp("", "snapshot-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), io.Discard, stub, []string{fmt.Sprint(pid), dir}); err != nil {
		return "", err
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("counter after the snapshot: %v", err)
	}
	maps, err := os.ReadFile(filepath.Join(dir, "maps"))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f[0]))
		if err == nil && bytes.Contains(b, []byte("counter.c's marker")) {
			return f[1] + " " + filepath.Base(f[5]), nil
		}
	}
	return "", fmt.Errorf("no copy holds the marker")
}

// A snapshot of counter.c waiting to be attached to: the marker, a
// global, is in the copy of counter's writable data.
func Example() {
	found, err := snapshotOf("procgdb")
	if err != nil {
		panic(err)
	}
	fmt.Println("the marker is in", found)
	// Output:
	// the marker is in rw-p counter
}

func TestGdbserver(t *testing.T) {
	extest.NeedGdbserver(t)
	found, err := snapshotOf("gdbserver")
	if err != nil || found != "rw-p counter" {
		t.Errorf("snapshot through gdbserver: marker in %q, %v", found, err)
	}
}
