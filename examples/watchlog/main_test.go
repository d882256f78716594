package main

import (
	"context"
	"os"
	"testing"

	"procgdb/examples/internal/extest"
)

// counter is examples/testdata/counter.c, compiled by TestMain.
var counter string

func TestMain(m *testing.M) {
	os.Exit(extest.Main(m, &counter))
}

// Logging the writes to total in counter.c, which work(1), work(2) and
// work(3) add to.
func Example() {
	if err := run(context.Background(), os.Stdout, "procgdb", []string{counter, "total", "3"}); err != nil {
		panic(err)
	}
	// Output:
	// total: 0 -> 1 in work
	// total: 1 -> 3 in work
	// total: 3 -> 6 in work
	// exit code 3
}

func TestGdbserver(t *testing.T) {
	extest.NeedGdbserver(t)
	extest.Expect(t, run, "gdbserver", []string{counter, "total", "2"}, "total: 0 -> 1 in work\ntotal: 1 -> 3 in work\nexit code 2\n")
}
