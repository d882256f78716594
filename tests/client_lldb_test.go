//go:build linux

package tests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/rsp/client"
)

// The typed client against lldb-server, for what rsp/client's package
// documentation says works there. lldb-server runs whatever the stub under
// test is: it is the third stub the client claims.

// startLLDBServer starts lldb-server over one end of a socket pair (--fd),
// serving the program and arguments in cmdline, if any, and connects the
// typed client to the other end.
func startLLDBServer(t *testing.T, cmdline ...string) *client.Client {
	t.Helper()
	path := needTool(t, "lldb-server")
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "lldb-server")
	defer ours.Close()
	out := newLineLog()
	args := []string{"gdbserver", "--fd", "3"}
	if len(cmdline) > 0 {
		// lldb-server 14 takes the first argument after its options
		// for [host]:port even with --fd: the first "--" is that.
		args = append(append(args, "--", "--"), cmdline...)
	}
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("lldb-server's output:\n%s", out)
		}
	})
	conn, err := net.FileConn(ours)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	c, err := (&client.Dialer{}).NewClient(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClientLLDBServerStops runs the stops every stub reports alike, which
// with lldb-server also tests its dialect: Linux signal numbers, reason:
// and description:, offsets in target.xml, lldb's x, and RangeStep
// without vCont's r.
func TestClientLLDBServerStops(t *testing.T) {
	prepare(t)
	report := filepath.Join(t.TempDir(), "report")
	c := startLLDBServer(t, prog("basic"), report)
	if st := c.LastStop(); st.Signal != int(unix.SIGSTOP) {
		t.Errorf("lldb-server's first stop %v, want SIGSTOP in Linux's numbering", st)
	}
	checkStops(t, c, 0, report)
}

// TestClientLLDBServerMore covers threads, registers, memory, auxv and
// files through lldb-server.
func TestClientLLDBServerMore(t *testing.T) {
	prepare(t)
	c := startLLDBServer(t, prog("threads"))
	ctx := clientCtx(t)
	stop, bp := runTo(t, ctx, c, prog("threads"), "all_started")
	threads, err := c.Threads()
	if err != nil || len(threads) != 5 {
		t.Fatalf("threads: %+v, %v; want 5", threads, err)
	}
	for _, th := range threads {
		if _, err := c.ReadRegister(th.ID, "rsp"); err != nil {
			t.Errorf("thread %v: %v", th.ID, err)
		}
	}
	th := stop.Thread()
	all, err := c.ReadRegisters(th)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := all.Get("rip"); !ok || v.Uint64() != mustRegister(t, c, th, "rip") {
		t.Errorf("g's rip %x (%v) differs from p's", v, ok)
	}
	sp := mustRegister(t, c, th, "rsp")
	block := []byte("$#}* escaped bytes, written and read back")
	if err := c.WriteMemory(sp-0x1000, block); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(block))
	if n, err := c.ReadMemory(sp-0x1000, got); err != nil || string(got[:n]) != string(block) {
		t.Errorf("read back %q, %v", got[:n], err)
	}
	if auxv, err := c.Auxv(); err != nil || len(auxv) == 0 {
		t.Errorf("auxv: %d entries, %v", len(auxv), err)
	}
	if b, err := c.FS(0).ReadFile("proc/self/status"); err != nil || !strings.Contains(string(b), "lldb-server") {
		t.Errorf("lldb-server's /proc/self/status: %v", err)
	}
	if err := bp.Remove(); err != nil {
		t.Fatal(err)
	}
	runToExit(t, ctx, c, 0)
}

// TestClientLLDBServerExtended runs a program, and attaches to and
// detaches from another, through lldb-server started without one (it
// exits when its process does, so each gets its own).
func TestClientLLDBServerExtended(t *testing.T) {
	prepare(t)
	t.Run("run", func(t *testing.T) {
		c := startLLDBServer(t)
		ctx := clientCtx(t)
		dir := t.TempDir()
		report := filepath.Join(dir, "report")
		if _, err := c.Run(ctx, client.Program{
			Path: prog("showargs"),
			Args: []string{report, "one"},
			Env:  []string{"PROCGDB_T_SET=set by the client"},
			Dir:  dir,
		}); err != nil {
			t.Fatal(err)
		}
		runToExit(t, ctx, c, 1)
		want := "argc=3\narg=one\nset=set by the client\nserver=(unset)\ncwd=" + dir + "\n"
		if got := readFile(t, report); got != want {
			t.Errorf("showargs reported:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("attach", func(t *testing.T) {
		c := startLLDBServer(t)
		ctx := clientCtx(t)
		p := startReady(t, "ticker")
		pid := p.cmd.Process.Pid
		if _, err := c.Attach(ctx, pid); err != nil {
			t.Fatal(err)
		}
		runTo(t, ctx, c, prog("ticker"), "tick")
		if err := c.Detach(pid); err != nil {
			t.Fatal(err)
		}
		p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
	})
}
