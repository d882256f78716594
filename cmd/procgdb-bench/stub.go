package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"procgdb/rsp"
)

// procgdbEnv is added to procgdb's environment (-procgdb-env), for
// experiments such as GOMAXPROCS=1.
var procgdbEnv []string

// stubKind is one of the stubs the bench compares.
type stubKind struct {
	name string
	path string
	// lldb says the stub speaks lldb's dialect (lldb-server): the bench
	// then talks to it as lldb does.
	lldb bool
}

// args returns the stub's command line to serve prog on addr.
func (k stubKind) args(addr, prog string, progArgs []string) []string {
	if k.lldb {
		return append([]string{"gdbserver", addr, "--", prog}, progArgs...)
	}
	return append([]string{"--once", addr, prog}, progArgs...)
}

// findStubs returns the stubs that are installed, procgdb first.
func findStubs(procgdb string, only string) []stubKind {
	want := func(name string) bool {
		return only == "" || strings.Contains(","+only+",", ","+name+",")
	}
	stubs := []stubKind{}
	if want("procgdb") {
		stubs = append(stubs, stubKind{name: "procgdb", path: procgdb})
	}
	if p, err := exec.LookPath("gdbserver"); err == nil && want("gdbserver") {
		stubs = append(stubs, stubKind{name: "gdbserver", path: p})
	}
	for _, name := range []string{"lldb-server", "lldb-server-14"} {
		if p, err := exec.LookPath(name); err == nil && want("lldb-server") {
			stubs = append(stubs, stubKind{name: "lldb-server", path: p, lldb: true})
			break
		}
	}
	return stubs
}

// stubProc is a running stub serving one program.
type stubProc struct {
	kind stubKind
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
	done chan struct{}
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort returns a loopback address with a port that was free a moment
// ago (lldb-server cannot report the port it picked for :0).
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startStub starts a stub serving prog with progArgs.
func startStub(k stubKind, prog string, progArgs []string) (*stubProc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(k.path, k.args(addr, prog, progArgs)...)
	if k.name == "procgdb" && len(procgdbEnv) > 0 {
		cmd.Env = append(os.Environ(), procgdbEnv...)
	}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", k.name, err)
	}
	p := &stubProc{kind: k, cmd: cmd, addr: addr, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// dial connects to the stub, retrying while it starts.
func (p *stubProc) dial(ctx context.Context) (*rsp.Client, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := rsp.Dial(ctx, "tcp", p.addr)
		if err == nil {
			return c, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited: %s", p.kind.name, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connect to %s: %w", p.kind.name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the stub and everything it started.
func (p *stubProc) stop() {
	select {
	case <-p.done:
		return
	case <-time.After(2 * time.Second):
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// cpuNanos returns the CPU time the stub's threads have used, from
// /proc/PID/task/*/schedstat (nanoseconds on the CPU).
func cpuNanos(pid int) (int64, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil {
			sum += v
		}
	}
	return sum, nil
}

// peakRSS returns the stub's VmHWM in bytes.
func peakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// statusBytes returns a "kB" line of process pid's /proc/PID/status, such
// as VmRSS, in bytes.
func statusBytes(pid int, key string) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s", key)
}
