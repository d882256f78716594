// Package script is what the example programs share: their command line,
// a client of the stub their -stub flag names, and the loop that runs a
// program to its end.
//
// The stub is procgdb or gdbserver, started over a pipe ("-"), or a stub
// already listening at an address. procgdb is looked up in $PATH; when it
// is not there and the example runs inside procgdb's module (go run
// ./examples/...), it is built from the module's source with the go tool,
// into a directory removed as soon as the stub has started (a running
// program needs no file on Linux).
package script

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"procgdb/rsp/client"
)

// Main runs the example called name: it parses the -stub flag and at
// least min arguments, which usage describes, calls run with them, and
// exits with the error run returns, if any.
func Main(name, usage string, min int, run func(ctx context.Context, out io.Writer, stub string, args []string) error) {
	flags := flag.NewFlagSet(name, flag.ExitOnError)
	stub := flags.String("stub", "procgdb", "the stub: procgdb or gdbserver, started here, or the HOST:PORT or unix socket path of a running one")
	flags.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-stub procgdb|gdbserver|ADDR] %s\n", name, usage)
		flags.PrintDefaults()
	}
	flags.Parse(os.Args[1:])
	if flags.NArg() < min {
		flags.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, *stub, flags.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// RunToEnd resumes the program until it ends, and returns the stop that
// ends it. f sees every stop before; a signal the program received is
// passed on to it when it resumes.
func RunToEnd(ctx context.Context, c *client.Client, f func(client.Stop) error) (client.Stop, error) {
	sig := 0
	for {
		stop, err := c.ContinueSignal(ctx, c.LastStop().Thread(), sig)
		if err != nil || stop.Exited() {
			return stop, err
		}
		if err := f(stop); err != nil {
			return stop, err
		}
		sig = 0
		if stop.Kind == client.StopSignal {
			sig = stop.Signal
		}
	}
}

// Ending says how a program ended: "exit code N", or "killed by SIGNAL".
func Ending(s client.Stop) string {
	if s.Kind == client.StopKilled {
		return "killed by " + unix.SignalName(unix.Signal(s.Signal))
	}
	return fmt.Sprintf("exit code %d", s.ExitCode)
}

// Launch returns a client of a stub that debugs prog with args, stopped
// at its first instruction, and prog's symbols. A running stub at an
// address must serve the program already, or serve extended mode (--multi)
// so that it can be run.
func Launch(ctx context.Context, spec, prog string, args []string) (*client.Client, *Table, error) {
	c, err := launch(ctx, spec, prog, args)
	if err != nil {
		return nil, nil, err
	}
	syms, err := loadSymbols(c, prog)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, syms, nil
}

func launch(ctx context.Context, spec, prog string, args []string) (*client.Client, error) {
	if !local(spec) {
		c, err := dial(ctx, spec)
		if err != nil || !c.LastStop().Exited() {
			return c, err // it serves a program already
		}
		if _, err := c.Run(ctx, client.Program{Path: prog, Args: args}); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	return start(ctx, spec, append([]string{"-", prog}, args...))
}

// Attach returns a client of a stub attached to the running process pid.
func Attach(ctx context.Context, spec string, pid int) (*client.Client, error) {
	if !local(spec) {
		c, err := dial(ctx, spec)
		if err != nil || c.LastStop().PID == pid {
			return c, err
		}
		if _, err := c.Attach(ctx, pid); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	return start(ctx, spec, []string{"--attach", "-", strconv.Itoa(pid)})
}

// local reports whether spec names a stub to start rather than one to
// reach.
func local(spec string) bool {
	return spec == "procgdb" || spec == "gdbserver"
}

// dial connects to the stub at spec: a unix socket when it is a path.
func dial(ctx context.Context, spec string) (*client.Client, error) {
	if strings.Contains(spec, "/") {
		return client.Dial(ctx, "unix", spec)
	}
	return client.Dial(ctx, "tcp", spec)
}

// start starts the stub named spec with args and connects to it. Its
// standard error, where a stub started with "-" also sends the program's
// output, is this process's.
func start(ctx context.Context, spec string, args []string) (*client.Client, error) {
	path, err := exec.LookPath(spec)
	if err != nil && spec == "procgdb" {
		dir, berr := build()
		if berr != nil {
			return nil, fmt.Errorf("procgdb is not in $PATH (%v), and building it failed: %w", err, berr)
		}
		defer os.RemoveAll(dir)
		path, err = filepath.Join(dir, "procgdb"), nil
	}
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stderr = os.Stderr
	return (&client.Dialer{}).StartCommand(ctx, cmd)
}

// build builds procgdb from the source of the module the working
// directory is in, into a new directory.
func build() (string, error) {
	out, err := exec.Command("go", "list", "-m").Output()
	if err != nil || strings.TrimSpace(string(out)) != "procgdb" {
		return "", errors.New("not inside procgdb's module")
	}
	dir, err := os.MkdirTemp("", "procgdb-example-")
	if err != nil {
		return "", err
	}
	b, err := exec.Command("go", "build", "-o", dir, "procgdb/cmd/procgdb").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build procgdb/cmd/procgdb: %v\n%s", err, b)
	}
	return dir, nil
}
