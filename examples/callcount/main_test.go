package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"procgdb/examples/internal/extest"
)

// counter is examples/testdata/counter.c, compiled by TestMain.
var counter string

func TestMain(m *testing.M) {
	os.Exit(extest.Main(m, &counter))
}

// Counting the calls of work in counter.c, which calls it five times and
// exits with status 5.
func Example() {
	if err := run(context.Background(), os.Stdout, "procgdb", []string{counter, "work", "5"}); err != nil {
		panic(err)
	}
	// Output:
	// work called 5 times
	// exit code 5
}

func TestGdbserver(t *testing.T) {
	extest.NeedGdbserver(t)
	extest.Expect(t, run, "gdbserver", []string{counter, "work", "4"}, "work called 4 times\nexit code 4\n")
}

// TestBuildsProcgdb runs callcount where procgdb is not in $PATH: it
// builds procgdb from this module.
func TestBuildsProcgdb(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("PATH", filepath.Dir(goTool))
	extest.Expect(t, run, "procgdb", []string{counter, "work", "2"}, "work called 2 times\nexit code 2\n")
}
