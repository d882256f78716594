//go:build linux

package tests

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// runStub runs the stub with args to completion (bounded) and returns its
// stdout, stderr and exit code.
func runStub(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.stubPath, args...)
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not exit within %v; stderr:\n%s", suite.stub, args, exitTimeout, e.String())
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("%s %q: %v", suite.stub, args, err)
	}
	return o.String(), e.String(), code
}

// freePID returns the PID of a process that has just exited: PIDs are
// allocated in increasing order, so it is not reused within the test.
func freePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestCommandLineErrors: a command line procgdb cannot act on makes it exit
// with status 1 and a line on stderr that names the problem, followed, for
// a mistake in the command line itself, by a usage line.
func TestCommandLineErrors(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's error messages")
	pid := strconv.Itoa(freePID(t))
	tests := []struct {
		name  string
		args  []string
		want  string // the first stderr line must match this
		usage bool   // a usage line follows
	}{
		{"unknown flag", []string{"--bogus", ":0", prog("basic")}, `bogus`, true},
		{"no program", []string{":0"}, `(?i)program|usage|missing`, true},
		{"no comm", []string{}, `(?i)usage|missing|comm`, true},
		{"pid not a number", []string{"--attach", ":0", "abc"}, `abc`, true},
		{"wrapper without --", []string{"--wrapper", "env", ":0", prog("basic")}, `--wrapper`, true},
		{"packet that cannot be disabled", []string{"--disable-packet=x", ":0", prog("basic")}, `"x"`, true},
		{"program does not exist", []string{":0", "/nonexistent/prog"}, `/nonexistent/prog: No such file or directory$`, false},
		{"program not in the directory nor $PATH", []string{":0", "procgdb-no-such-program"}, `procgdb-no-such-program: .*No such file or directory$`, false},
		{"program not executable", []string{":0", suite.srcDir + "/basic.c"}, `basic\.c: Permission denied$`, false},
		{"pid does not exist", []string{"--attach", ":0", pid}, pid, false},
		{"pid does not exist, --attach after COMM", []string{":0", "--attach", pid}, pid, false},
		{"port out of range", []string{":99999", prog("basic")}, `99999`, false},
		{"IPv6 address without a port", []string{"::1:", prog("basic")}, `::1:`, false},
		{"bracket not closed", []string{"[::1", prog("basic")}, `\[::1`, false},
		{"IPv4 address for tcp6", []string{"tcp6:127.0.0.1:0", prog("basic")}, `tcp6`, false},
		{"prefix alone", []string{"tcp:", prog("basic")}, `tcp:`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prepare(t)
			_, stderr, code := runStub(t, tt.args...)
			if code != 1 {
				t.Errorf("procgdb %q exited with status %d, want 1", tt.args, code)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			want := 1
			if tt.usage {
				want = 2
			}
			switch {
			case len(lines) != want || strings.TrimSpace(lines[0]) == "":
				t.Errorf("procgdb %q wrote %d lines to stderr, want %d:\n%s", tt.args, len(lines), want, indent(stderr))
			case !regexp.MustCompile(tt.want).MatchString(lines[0]):
				t.Errorf("procgdb %q: stderr %q does not match %q", tt.args, lines[0], tt.want)
			case tt.usage && !regexp.MustCompile(usageRE).MatchString(lines[1]):
				t.Errorf("procgdb %q: second line %q is not a usage line", tt.args, lines[1])
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's --version and --help")
	stdout, stderr, code := runStub(t, "--version")
	if code != 0 || strings.TrimSpace(stdout+stderr) == "" {
		t.Errorf("procgdb --version: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = runStub(t, "--help")
	if code != 0 || !strings.Contains(stdout+stderr, "--attach") {
		t.Errorf("procgdb --help: status %d, want 0 and a text that mentions --attach:\n%s%s", code, stdout, stderr)
	}
}
