//go:build linux

package tests

import (
	"fmt"
	"strings"
	"testing"
)

// TestProgramPathOnce: a program that cannot be started is named once in
// the line that says why, on the command line (a path too long for the
// kernel) and in vRun's error text (a missing program), however long its
// path.
func TestProgramPathOnce(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's error lines")
	long := "/" + strings.Repeat("a", 5000)
	_, stderr, code := runStub(t, ":0", long)
	line := strings.TrimSpace(stderr)
	if code == 0 || strings.Count(line, long) != 1 || !strings.HasSuffix(line, ": File name too long") {
		t.Errorf("procgdb :0 /a...a (5000 bytes): status %d, stderr %.80q...%q; want the path once, then why", code, line, line[max(0, len(line)-60):])
	}

	missing := "/nonexistent/" + strings.Repeat("b", 60)
	s := startMulti(t, stubOptions{})
	c := dialStub(t, s)
	exchange(t, c, "qSupported:multiprocess+;error-message+")
	exchange(t, c, "!")
	exchange(t, c, "QStartupWithShell:0")
	want := "E.vRun: launch " + missing + ": No such file or directory"
	if r := exchange(t, c, fmt.Sprintf("vRun;%x", missing)); r != want {
		t.Errorf("vRun of a missing program = %q, want %q", r, want)
	}
}
