package target

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

// build compiles testdata/name.c into a temporary directory. name may
// lead out of testdata, to a program the end-to-end tests share.
func build(t testing.TB, name string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(name))
	args := append([]string{"-g", "-O0", "-o", out, filepath.Join("testdata", name+".c")}, flags...)
	b, err := exec.Command("gcc", args...).CombinedOutput()
	require.NoError(t, err, "gcc: %s", b)
	return out
}

// newTracer returns the Ctl of a tracer whose loop will be the test's
// goroutine (at its first launch or attach), closed when the test ends.
func newTracer(t testing.TB) *Ctl {
	t.Helper()
	_, c := newTracerHandle(t)
	return c
}

// newTracerHandle is newTracer that also returns the Tracer, for the
// test's other goroutines.
func newTracerHandle(t testing.TB) (*Tracer, *Ctl) {
	t.Helper()
	layout, err := regs.HostLayout()
	require.NoError(t, err)
	tr := NewTracer(layout, testLogger())
	c := tr.Ctl()
	t.Cleanup(func() { c.Close() })
	return tr, c
}

func wait(t testing.TB, tr *Ctl) inferior.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := tr.Wait(ctx)
	require.NoError(t, err)
	return ev
}

// symbol returns the run-time address of a function or variable of the
// program, from its ELF symbols and the load bias the auxv entry shows.
func symbol(t testing.TB, tr *Ctl, pid int, prog, name string) uint64 {
	t.Helper()
	s, fileEntry := elfSymbol(t, prog, name)
	auxv, err := tr.Auxv(pid)
	require.NoError(t, err)
	entry, ok := auxvValue(auxv, 9) // AT_ENTRY
	require.True(t, ok)
	return s.Value + entry - fileEntry
}

// elfSymbol returns the program's symbol name and its entry point.
func elfSymbol(t testing.TB, prog, name string) (elf.Symbol, uint64) {
	t.Helper()
	f, err := elf.Open(prog)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	for _, s := range syms {
		if s.Name == name {
			return s, f.Entry
		}
	}
	t.Fatalf("no symbol %s", name)
	return elf.Symbol{}, 0
}

func launch(t *testing.T, tr *Ctl, prog string, args ...string) (pid int, out *os.File) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	pid, err = tr.Launch(LaunchOptions{Path: prog, Args: append([]string{prog}, args...), Stdout: out, Stderr: out, DisableASLR: true})
	require.NoError(t, err)
	return pid, out
}

var all = []inferior.Action{{Kind: inferior.Continue, PID: inferior.All, TID: inferior.All}}

func TestLaunchBreakpointStepExit(t *testing.T) {
	prog := build(t, "basic")
	tr := newTracer(t)
	pid, out := launch(t, tr, prog)
	require.Equal(t, []int{pid}, tr.Processes())

	work := symbol(t, tr, pid, prog, "work")
	var orig [4]byte
	_, err := tr.ReadMemory(pid, work, orig[:])
	require.NoError(t, err)
	require.NoError(t, tr.InsertBreakpoint(pid, work))

	// Reads show the original bytes, not the int3.
	var got [4]byte
	n, err := tr.ReadMemory(pid, work, got[:])
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, orig, got)

	for i := 0; i < 3; i++ {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventBreakpoint, PID: pid, TID: pid}, ev)
		s, err := tr.Registers(pid, pid, false)
		require.NoError(t, err)
		require.Equal(t, work, s.GPR.Rip, "PC rewound to the breakpoint")
		require.Equal(t, uint64(i), s.GPR.Rdi, "argument of call %d", i)
	}

	// A single step from the breakpoint leaves it, and the breakpoint stays.
	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid}}))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventStep, ev.Kind)
	s, err := tr.Registers(pid, pid, true)
	require.NoError(t, err)
	require.Greater(t, s.GPR.Rip, work)

	// Change counter: the program prints what we wrote.
	counter := symbol(t, tr, pid, prog, "counter")
	var w [4]byte
	binary.LittleEndian.PutUint32(w[:], 100)
	n, err = tr.WriteMemory(pid, counter, w[:])
	require.NoError(t, err)
	require.Equal(t, 4, n)

	require.NoError(t, tr.RemoveBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	ev = wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid, ExitCode: 7}, ev)
	require.Empty(t, tr.Processes())

	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	// work(0)+work(1) with counter 5, work(2) with 100: the write came
	// one instruction into the third call.
	require.Equal(t, "sum=116 counter=100\n", string(b))
}

func TestPartialRead(t *testing.T) {
	prog := build(t, "basic")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	work := symbol(t, tr, pid, prog, "work")
	require.NoError(t, tr.InsertBreakpoint(pid, work))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)

	var p [8]byte
	_, err := tr.ReadMemory(pid, symbol(t, tr, pid, prog, "edge"), p[:])
	require.NoError(t, err)
	edge := binary.LittleEndian.Uint64(p[:])

	buf := make([]byte, 64)
	n, err := tr.ReadMemory(pid, edge, buf)
	require.NoError(t, err)
	require.Equal(t, 8, n, "read stops at the unmapped page")
	require.Equal(t, bytes.Repeat([]byte{0xab}, 8), buf[:8])

	_, err = tr.ReadMemory(pid, edge+8, buf)
	require.Error(t, err)
	_, err = tr.ReadMemory(pid, 0, buf)
	require.Error(t, err)
	require.NoError(t, tr.Kill(pid))
	require.Empty(t, tr.Processes())
}

func TestThreadsHitBreakpoint(t *testing.T) {
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	pid, out := launch(t, tr, prog)
	add := symbol(t, tr, pid, prog, "add")
	require.NoError(t, tr.InsertBreakpoint(pid, add))

	hitters := map[int]int{}
	maxThreads := 0
	for {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		if ev.Kind == inferior.EventExited {
			require.Equal(t, 0, ev.ExitCode)
			break
		}
		require.Equal(t, inferior.EventBreakpoint, ev.Kind, "event %+v", ev)
		hitters[ev.TID]++
		tids, err := tr.Threads(pid)
		require.NoError(t, err)
		require.Equal(t, pid, tids[0])
		maxThreads = max(maxThreads, len(tids))
		s, err := tr.Registers(pid, ev.TID, false)
		require.NoError(t, err)
		require.Equal(t, add, s.GPR.Rip)

		// Step off the breakpoint the way gdb does: remove it, step that
		// thread alone, put it back. The thread may have been stopped by
		// an interrupt that is still pending: the step must not be lost.
		require.NoError(t, tr.RemoveBreakpoint(pid, add))
		require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: ev.TID}}))
		step := wait(t, tr)
		require.Equal(t, inferior.Event{Kind: inferior.EventStep, PID: pid, TID: ev.TID}, step)
		require.NoError(t, tr.InsertBreakpoint(pid, add))
	}
	total := 0
	for _, n := range hitters {
		total += n
	}
	require.Equal(t, 12, total, "every call of add hits once")
	require.GreaterOrEqual(t, len(hitters), 2, "several threads hit it")
	require.GreaterOrEqual(t, maxThreads, 2)
	b, _ := os.ReadFile(out.Name())
	require.Equal(t, "total=30\n", string(b))
}

func TestSignalSiginfoAndDeath(t *testing.T) {
	prog := build(t, "segv")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: pid, Signal: int(unix.SIGSEGV)}, ev)
	info, err := tr.Siginfo(pid, pid)
	require.NoError(t, err)
	require.Equal(t, uint32(unix.SIGSEGV), binary.LittleEndian.Uint32(info))
	require.Equal(t, uint64(0x10), binary.LittleEndian.Uint64(info[16:]), "si_addr")
	// The siginfo can be changed, and reads back changed.
	binary.LittleEndian.PutUint64(info[16:], 0x666)
	require.NoError(t, tr.SetSiginfo(pid, pid, info))
	again, err := tr.Siginfo(pid, pid)
	require.NoError(t, err)
	require.Equal(t, info, again)
	require.ErrorIs(t, tr.SetSiginfo(pid, pid, info[:64]), unix.EINVAL)

	// Continue without the signal: it faults again.
	require.NoError(t, tr.Resume(all))
	require.Equal(t, unix.SIGSEGV, unix.Signal(wait(t, tr).Signal))
	// With it, the program dies.
	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Continue, Signal: int(unix.SIGSEGV), PID: inferior.All, TID: inferior.All}}))
	require.Equal(t, inferior.Event{Kind: inferior.EventKilled, PID: pid, Signal: int(unix.SIGSEGV)}, wait(t, tr))
}

func TestInterruptAndPassSignals(t *testing.T) {
	prog := build(t, "spin")
	tr := newTracer(t)
	pid, _ := launch(t, tr, prog)
	require.NoError(t, tr.Resume(all))
	require.NoError(t, tr.Interrupt())
	ev := wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: pid, Signal: int(unix.SIGINT)}, ev)

	// A passed signal reaches the program without a stop: SIGTERM kills it.
	tr.SetPassSignals([]int{int(unix.SIGTERM)})
	require.NoError(t, tr.Resume(all))
	require.NoError(t, unix.Kill(pid, unix.SIGTERM))
	require.Equal(t, inferior.Event{Kind: inferior.EventKilled, PID: pid, Signal: int(unix.SIGTERM)}, wait(t, tr))
}

func TestAttachDetach(t *testing.T) {
	prog := build(t, "spin")
	cmd := exec.Command(prog, "40")
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	tr := newTracer(t)
	pid := cmd.Process.Pid
	require.NoError(t, tr.Attach(pid))
	require.True(t, tr.IsAttached(pid))
	step := symbol(t, tr, pid, prog, "step")
	require.NoError(t, tr.InsertBreakpoint(pid, step))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.EventBreakpoint, wait(t, tr).Kind)
	mainLM, libs, err := tr.Libraries(pid)
	require.NoError(t, err)
	require.NotZero(t, mainLM)
	var names []string
	for _, l := range libs {
		names = append(names, filepath.Base(l.Name))
	}
	require.Contains(t, strings.Join(names, " "), "libc.so")

	// Detach while sitting on the breakpoint: it must not be left behind.
	require.NoError(t, tr.Detach(pid))
	require.Empty(t, tr.Processes())
	require.NoError(t, cmd.Wait())
	lines := strings.Fields(out.String())
	require.Equal(t, "40", lines[len(lines)-1])
}

// A program that cannot be run is an error that says why in the C
// library's words; through a shell, the shell says why and exits.
func TestLaunchMissingProgram(t *testing.T) {
	tr := newTracer(t)
	dir := t.TempDir()
	noExec := filepath.Join(dir, "noexec")
	require.NoError(t, os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644))
	tests := []struct {
		path, shell string
		errno       unix.Errno
		want        string
		code        int
	}{
		{path: filepath.Join(dir, "nope"), errno: unix.ENOENT, want: "nope: No such file or directory"},
		{path: "procgdb-no-such-program", errno: unix.ENOENT, want: "procgdb-no-such-program: in neither the current directory nor $PATH: No such file or directory"},
		{path: noExec, errno: unix.EACCES, want: "noexec: Permission denied"},
		{path: dir, errno: unix.EACCES, want: "a directory: Permission denied"},
		{path: noExec, shell: "/bin/sh", code: 126},
		{path: filepath.Join(dir, "nope"), shell: "/bin/sh", code: 127},
	}
	for _, tt := range tests {
		_, err := tr.Launch(LaunchOptions{Path: tt.path, Shell: tt.shell})
		if tt.shell == "" {
			require.ErrorIs(t, err, tt.errno, "%s", tt.path)
			require.ErrorContains(t, err, tt.want)
		} else {
			se, ok := errors.AsType[*StartupExitError](err)
			require.True(t, ok, "%s through the shell: %v", tt.path, err)
			require.Equal(t, tt.code, se.Code)
		}
		require.Empty(t, tr.Processes())
	}
}

// A wrapper runs the program, which is reported stopped at its own exec,
// with or without a shell; a program named without a slash is the one in
// the current directory.
func TestLaunchWrapper(t *testing.T) {
	prog := build(t, "loop")
	t.Chdir(filepath.Dir(prog))
	require.Equal(t, prog, ProgramPath("loop"))
	require.Equal(t, "sh", ProgramPath("sh"))
	tr := newTracer(t)
	for _, shell := range []string{"", "/bin/sh"} {
		pid, err := tr.Launch(LaunchOptions{Path: "loop", Wrapper: []string{"env", "PROCGDB_WRAPPED=1"}, Shell: shell})
		require.NoError(t, err, "shell %q", shell)
		exe, err := tr.ExecFile(pid)
		require.NoError(t, err)
		require.Equal(t, prog, exe, "shell %q", shell)
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		require.NoError(t, err)
		require.Contains(t, strings.Split(string(env), "\x00"), "PROCGDB_WRAPPED=1")
		require.NoError(t, tr.Kill(pid))
	}
}

// TestLaunchAsAnotherUser: a program started for a client runs with the
// client's ids, and with no_new_privs; the tracer still follows it.
func TestLaunchAsAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("starting a program as another user needs root")
	}
	tr := newTracer(t)
	tr.SetPassSignals([]int{int(unix.SIGCHLD)}) // the shell's, as gdb passes it
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer out.Close()
	const id = 47021
	pid, err := tr.Launch(LaunchOptions{
		Path: "/bin/sh", Args: []string{"sh", "-c", "id -u; id -g; id -G; grep NoNewPrivs /proc/self/status"},
		Stdout: out, Dir: "/", Credential: &syscall.Credential{Uid: id, Gid: id, Groups: []uint32{id + 1}}, NoNewPrivs: true,
	})
	require.NoError(t, err)
	runsToExit(t, tr, pid)
	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%d\n%d\n%d %d\nNoNewPrivs:\t1\n", id, id, id, id+1), string(b))
}

// testLogger logs the tracer's debug output when PROCGDB_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PROCGDB_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A single step of a thread that the kernel will put back into a blocking
// system call (it was interrupted in read) cannot be waited for on the
// spot: Resume returns at once and an interrupt still ends the step.
func TestStepIntoBlockedReadInterrupted(t *testing.T) {
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("cat not installed")
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	tr := newTracer(t)
	pid, err := tr.Launch(LaunchOptions{Path: cat, Args: []string{cat}, Stdin: r})
	require.NoError(t, err)

	require.NoError(t, tr.Resume(all))
	blockedIn(t, pid, unix.SYS_READ)
	require.NoError(t, tr.Interrupt())
	require.Equal(t, int(unix.SIGINT), wait(t, tr).Signal)

	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Step, PID: pid, TID: pid}}))
	blockedIn(t, pid, unix.SYS_READ)
	require.NoError(t, tr.Interrupt())
	ev := wait(t, tr)
	require.Equal(t, pid, ev.TID)
}

// blockedIn waits until the process blocks in system call nr:
// /proc/PID/syscall names the call a blocked task is in.
func blockedIn(t *testing.T, pid, nr int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(procPath(pid, "syscall"))
		if strings.HasPrefix(string(b), strconv.Itoa(nr)+" ") {
			return
		}
		require.True(t, time.Now().Before(deadline), "never blocked in system call %d: %q", nr, b)
		time.Sleep(time.Millisecond) // polling a condition, bounded above
	}
}
