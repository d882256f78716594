package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

func TestForkNotFollowedLosesBreakpoints(t *testing.T) {
	prog := build(t, "fork")
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	pid, _ := launch(t, tr, prog)
	// The child calls child_work; a breakpoint there must not kill it.
	require.NoError(t, tr.InsertBreakpoint(pid, symbol(t, tr, pid, prog, "child_work")))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid, ExitCode: 13}, wait(t, tr))
}

func TestForkFollowed(t *testing.T) {
	for _, mode := range []string{"fork", "vfork"} {
		t.Run(mode, func(t *testing.T) {
			prog := build(t, "fork")
			tr := newTracer(t)
			// gdb passes SIGCHLD by default; the parents here get one.
			tr.SetPassSignals([]int{int(unix.SIGCHLD)})
			tr.SetEventOptions(inferior.EventOptions{Fork: true, VFork: true})
			pid, _ := launch(t, tr, prog, mode)
			work := symbol(t, tr, pid, prog, "child_work")
			require.NoError(t, tr.InsertBreakpoint(pid, work))

			require.NoError(t, tr.Resume(all))
			ev := wait(t, tr)
			want := inferior.EventFork
			if mode == "vfork" {
				want = inferior.EventVFork
			}
			require.Equal(t, want, ev.Kind)
			child := ev.ChildPID
			require.NotZero(t, child)
			require.Equal(t, []int{pid, child}, tr.Processes())

			// The child inherited the breakpoint and hits it.
			require.NoError(t, tr.Resume(all))
			ev = wait(t, tr)
			require.Equal(t, inferior.Event{Kind: inferior.EventBreakpoint, PID: child, TID: child}, ev)
			require.NoError(t, tr.RemoveBreakpoint(child, work))

			var got []inferior.Event
			for len(tr.Processes()) > 0 {
				require.NoError(t, tr.Resume(all))
				ev := wait(t, tr)
				if ev.Kind == inferior.EventVForkDone {
					continue
				}
				got = append(got, ev)
			}
			require.ElementsMatch(t, []inferior.Event{
				{Kind: inferior.EventExited, PID: child, ExitCode: 3},
				{Kind: inferior.EventExited, PID: pid, ExitCode: 13},
			}, got)
		})
	}
}

func TestExecEvent(t *testing.T) {
	prog := build(t, "fork")
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	tr.SetEventOptions(inferior.EventOptions{Fork: true, Exec: true})
	pid, _ := launch(t, tr, prog, "exec", "/bin/true")
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventFork, ev.Kind)
	child := ev.ChildPID
	require.NoError(t, tr.Detach(pid)) // follow the child only

	require.NoError(t, tr.Resume(all))
	ev = wait(t, tr)
	require.Equal(t, inferior.EventExec, ev.Kind)
	require.Equal(t, child, ev.PID)
	truePath, _ := filepath.EvalSymlinks("/bin/true")
	require.Equal(t, truePath, ev.ExecPath)
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: child}, wait(t, tr))
}

// TestExecCheckRefuses: an exec the exec check refuses detaches the
// process there and reports nothing; the program runs on untraced (here
// /bin/true, whose status its parent, detached before, exits with).
func TestExecCheckRefuses(t *testing.T) {
	prog := build(t, "fork")
	tracer, tr := newTracerHandle(t)
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	tr.SetEventOptions(inferior.EventOptions{Fork: true, Exec: true})
	var checked []int
	tr.SetExecCheck(func(pid int) error {
		checked = append(checked, pid)
		tracer.Wake() // as procgdb's daemon ends its client's session
		return errors.New("refused")
	})
	pid, _ := launch(t, tr, prog, "exec", "/bin/true")
	require.NoError(t, tr.Resume(all))
	ev := wait(t, tr)
	require.Equal(t, inferior.EventFork, ev.Kind)
	child := ev.ChildPID
	require.NoError(t, tr.Detach(pid))

	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{}, wait(t, tr), "woken, with nothing to report")
	require.Equal(t, []int{child}, checked)
	require.Empty(t, tr.Processes())
	var ws unix.WaitStatus
	_, err := unix.Wait4(pid, &ws, 0, nil)
	require.NoError(t, err)
	require.Equal(t, 10, ws.ExitStatus(), "the parent saw /bin/true exit 0")
}

func TestCatchSyscalls(t *testing.T) {
	prog := build(t, "fork")
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	tr.SetEventOptions(inferior.EventOptions{CatchSyscalls: true, Syscalls: []int{unix.SYS_WRITE}})
	pid, _ := launch(t, tr, prog, "none")
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventSyscallEntry, PID: pid, TID: pid, Syscall: unix.SYS_WRITE}, wait(t, tr))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventSyscallReturn, PID: pid, TID: pid, Syscall: unix.SYS_WRITE}, wait(t, tr))
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid, ExitCode: 13}, wait(t, tr))
}

func TestThreadEvents(t *testing.T) {
	prog := build(t, "threads", "-pthread")
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	tr.SetEventOptions(inferior.EventOptions{ThreadEvents: true})
	pid, _ := launch(t, tr, prog)
	created, exited := map[int]bool{}, map[int]bool{}
	for {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		switch ev.Kind {
		case inferior.EventThreadCreated:
			created[ev.TID] = true
			continue
		case inferior.EventThreadExited:
			exited[ev.TID] = true
			continue
		}
		require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid}, ev)
		break
	}
	require.Len(t, created, 4)
	// In a group exit the main thread may reach its exit before the
	// others: it is then reported like them.
	delete(exited, pid)
	require.Equal(t, created, exited)
}

// TestLaunchWithShell: through the shell, the program receives its
// arguments as they are; the shell expands no glob and makes no
// redirection of them.
func TestLaunchWithShell(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	out, err := os.Create(filepath.Join(dir, "out"))
	require.NoError(t, err)
	defer out.Close()
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	args := []string{dir + "/*.txt", ">", filepath.Join(dir, "redirected"), "$HOME", "", "a b"}
	pid, err := tr.Launch(LaunchOptions{
		Path:   "/bin/echo",
		Args:   append([]string{"/bin/echo"}, args...),
		Shell:  "/bin/sh",
		Stdout: out,
	})
	require.NoError(t, err)
	exe, err := tr.ExecFile(pid)
	require.NoError(t, err)
	require.Equal(t, "echo", filepath.Base(exe), "stopped in the program, not the shell")
	require.NoError(t, tr.Resume(all))
	require.Equal(t, inferior.Event{Kind: inferior.EventExited, PID: pid}, wait(t, tr))
	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	require.Equal(t, strings.Join(args, " ")+"\n", string(b))
	require.NoFileExists(t, filepath.Join(dir, "redirected"))
}

func TestNoResumed(t *testing.T) {
	prog := build(t, "basic")
	tr := newTracer(t)
	// gdb passes SIGCHLD by default; the parents here get one.
	tr.SetPassSignals([]int{int(unix.SIGCHLD)})
	tr.SetEventOptions(inferior.EventOptions{NoResumed: true})
	pid, _ := launch(t, tr, prog)
	require.NoError(t, tr.Resume([]inferior.Action{{Kind: inferior.Continue, PID: pid, TID: 12345678}}))
	require.Equal(t, inferior.Event{Kind: inferior.EventNoResumed}, wait(t, tr))
}

// TestLeaderGone: a main thread that exits while another thread runs on
// is reported as a thread exit (with thread events on) and is gone from
// then on: the thread list has the other thread alone, memory and /proc
// are read through it, and an interrupt stops it.
func TestLeaderGone(t *testing.T) {
	prog := build(t, "leader", "-pthread")
	tr := newTracer(t)
	tr.SetEventOptions(inferior.EventOptions{ThreadEvents: true})
	pid, _ := launch(t, tr, prog)
	spins := symbol(t, tr, pid, prog, "spins")
	// The second thread's creation and the main thread's exit, in
	// either order.
	for created, exited := false, false; !created || !exited; {
		require.NoError(t, tr.Resume(all))
		ev := wait(t, tr)
		switch {
		case ev.Kind == inferior.EventThreadExited && ev.TID == pid:
			exited = true
		case ev.Kind == inferior.EventThreadCreated:
			created = true
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	tids, err := tr.Threads(pid)
	require.NoError(t, err)
	require.Len(t, tids, 1)
	require.NotEqual(t, pid, tids[0])
	_, err = tr.Registers(pid, pid, false)
	require.ErrorIs(t, err, inferior.ErrNoThread)
	_, err = tr.Auxv(pid)
	require.NoError(t, err)
	before := readUint64(t, tr, pid, spins)

	require.NoError(t, tr.Resume(all))
	require.NoError(t, tr.Interrupt())
	ev := wait(t, tr)
	require.Equal(t, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: tids[0], Signal: int(unix.SIGINT)}, ev)
	require.GreaterOrEqual(t, readUint64(t, tr, pid, spins), before)
}
