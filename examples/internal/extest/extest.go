// Package extest prepares the tests of the examples: it compiles
// examples/testdata/counter.c and builds this module's procgdb into a
// temporary directory put first in $PATH, so that the examples run the
// procgdb under test.
package extest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main prepares, runs the tests of an example package and cleans up; it
// returns the exit status. *counter receives the compiled program's path.
// Without gcc the tests are skipped, except in CI (where .ci/run installs
// it).
func Main(m *testing.M, counter *string) int {
	if _, err := exec.LookPath("gcc"); err != nil {
		fmt.Fprintln(os.Stderr, "gcc not found (bash .ci/run installs it): skipping the example's tests")
		if os.Getenv("CI") != "" {
			return 1
		}
		return 0
	}
	dir, err := os.MkdirTemp("", "procgdb-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*counter = filepath.Join(dir, "counter")
	for _, c := range [][]string{
		{"gcc", "-g", "-O0", "-o", *counter, "../testdata/counter.c"},
		{"go", "build", "-o", dir, "procgdb/cmd/procgdb"},
	} {
		if b, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v\n%s", c, err, b)
			return 1
		}
	}
	os.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	return m.Run()
}

// Run is an example's run function (script.Main calls it).
type Run func(ctx context.Context, out io.Writer, stub string, args []string) error

// Expect fails the test unless run, with stub and args, prints want.
func Expect(t *testing.T, run Run, stub string, args []string, want string) {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), &out, stub, args); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

// NeedGdbserver skips a test that runs an example under gdbserver when
// gdbserver is not installed.
func NeedGdbserver(t *testing.T) {
	if _, err := exec.LookPath("gdbserver"); err != nil {
		t.Skipf("gdbserver not installed: %v", err)
	}
}
