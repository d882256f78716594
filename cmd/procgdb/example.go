package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

//go:embed testdata/example.c
var exampleSource []byte

// runExample shows procgdb at work with no set-up: it compiles a small C
// program, serves it with procgdb on a free loopback port (this very
// binary, in a child process), and runs a short gdb session against it.
func runExample(stdout, stderr io.Writer) error {
	for _, tool := range []string{"gcc", "gdb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (on Debian or Ubuntu: apt-get install -y gcc gdb)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "procgdb-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "example.c")
	prog := filepath.Join(dir, "example")
	if err := os.WriteFile(src, exampleSource, 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("gcc", "-g", "-O0", "-o", prog, src).CombinedOutput(); err != nil {
		return fmt.Errorf("gcc: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stub := exec.CommandContext(ctx, self, "--once", ":0", prog)
	stubErr, err := stub.StderrPipe()
	if err != nil {
		return err
	}
	stub.Stdout = stdout
	fmt.Fprintf(stdout, "$ procgdb --once :0 %s\n", prog)
	if err := stub.Start(); err != nil {
		return err
	}
	defer stub.Wait()
	defer stub.Process.Kill()

	// Copy procgdb's stderr through, catching the port on the way.
	ports := make(chan int, 1)
	go func() {
		re := regexp.MustCompile(`Listening on port (\d+)`)
		buf := make([]byte, 4096)
		var seen []byte
		for {
			n, err := stubErr.Read(buf)
			stderr.Write(buf[:n])
			if len(seen) < 1<<16 {
				seen = append(seen, buf[:n]...)
				if m := re.FindSubmatch(seen); m != nil {
					p, _ := strconv.Atoi(string(m[1]))
					select {
					case ports <- p:
					default:
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var port int
	select {
	case port = <-ports:
	case <-ctx.Done():
		return errors.New("procgdb did not start listening")
	}

	script := []string{
		fmt.Sprintf("target remote :%d", port),
		"break greet",
		"continue",
		"backtrace",
		"print who",
		"print count",
		"finish",
		"print total",
		"delete",
		"continue",
	}
	args := []string{"-batch", "-nx", "-q", prog}
	for _, c := range script {
		args = append(args, "-ex", c)
	}
	fmt.Fprintf(stdout, "$ gdb -batch %s", prog)
	for _, c := range script {
		fmt.Fprintf(stdout, " -ex '%s'", c)
	}
	fmt.Fprintln(stdout)
	gdb := exec.CommandContext(ctx, "gdb", args...)
	gdb.Stdout, gdb.Stderr = stdout, stdout
	if err := gdb.Run(); err != nil {
		return fmt.Errorf("gdb: %w", err)
	}
	return nil
}
