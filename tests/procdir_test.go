//go:build linux

package tests

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/rsp/client"
)

// The daemon (procgdb --proc-dir DIR): a socket DIR/PID for every process,
// through which whoever could ptrace the process debugs it. The tests run
// the daemon as root and programs and debuggers as root and as a second
// user, otherUser, which needs no entry in the user database.

// otherUser is the second user of the daemon's tests.
var otherUser = &syscall.Credential{Uid: 47011, Gid: 47011}

// needRoot skips a test that runs programs as another user, which only
// root may.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the daemon's tests run programs as a second user, which needs root")
	}
}

// daemonProc is a running procgdb --proc-dir.
type daemonProc struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	stderr *lineLog
	done   chan struct{}
}

// startDaemon starts procgdb --proc-dir on a new directory and waits
// until it says it listens.
func startDaemon(t *testing.T, flags ...string) *daemonProc {
	t.Helper()
	return startDaemonWith(t, nil, flags...)
}

// startDaemonWith is startDaemon with setup changing the command before
// it starts (nil: none); setup gets the daemon's directory.
func startDaemonWith(t *testing.T, setup func(cmd *exec.Cmd, dir string), flags ...string) *daemonProc {
	t.Helper()
	onlyProcgdb(t, "the --proc-dir daemon")
	needRoot(t)
	d := &daemonProc{t: t, dir: publicDir(t), stderr: newLineLog(), done: make(chan struct{})}
	args := append(append(stubFlags(false), flags...), "--proc-dir", d.dir)
	d.cmd = exec.Command(suite.stubPath, args...)
	d.cmd.Stderr = d.stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if setup != nil {
		setup(d.cmd, d.dir)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		// A procgdb built with -race (PROCGDB_TEST_BIN) says so here.
		if strings.Contains(d.stderr.String(), "DATA RACE") {
			t.Error("procgdb --proc-dir reported a data race")
		}
		if t.Failed() {
			t.Logf("procgdb --proc-dir stderr:\n%s", d.stderr)
		}
	})
	if _, _, err := d.stderr.wait(0, regexp.MustCompile(`^Listening on `+regexp.QuoteMeta(d.dir)+`$`), readyTimeout, d.done); err != nil {
		t.Fatalf("procgdb --proc-dir %s: %v", d.dir, err)
	}
	return d
}

// socket is the path of process pid's socket.
func (d *daemonProc) socket(pid int) string { return filepath.Join(d.dir, strconv.Itoa(pid)) }

// waitSocket waits until process pid's socket exists (present) or is
// gone, and returns its status when it exists.
func (d *daemonProc) waitSocket(pid int, present bool) os.FileInfo {
	d.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		fi, err := os.Lstat(d.socket(pid))
		if (err == nil) == present && (!present || ownedAsProcess(fi, pid)) {
			return fi
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("socket %s: still %v (%v) after %v", d.socket(pid), err, fi, readyTimeout)
		}
		select {
		case <-d.done:
			d.t.Fatal("procgdb --proc-dir exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ownedAsProcess reports whether the socket fi has the owner of process
// pid's /proc entry: a process that changed its ids after it started (as
// one started with a Credential does, between fork and exec) has its
// socket given to its new owner a moment later.
func ownedAsProcess(fi os.FileInfo, pid int) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/stat", pid), &st); err != nil {
		return true // gone: the caller finds out
	}
	return fi.Sys().(*syscall.Stat_t).Uid == st.Uid
}

// waitHeld waits, within a bounded time, until process pid is stopped
// and traced by the daemon, as a controller that left without detaching
// leaves it; it fails the test if that does not come.
func (d *daemonProc) waitHeld(pid int) {
	d.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		status := readFile(d.t, fmt.Sprintf("/proc/%d/status", pid))
		// TracerPid is the tracing thread's id.
		_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", d.cmd.Process.Pid, tracerOf(d.t, pid)))
		if err == nil && strings.Contains(status, "State:\tt (tracing stop)") {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("process %d is not held stopped by procgdb (%v):\n%s", pid, err, status)
		}
		time.Sleep(10 * time.Millisecond) // the daemon stops it meanwhile
	}
}

// startTicker starts testdata/ticker.c as the test's user and waits for
// its socket.
func (d *daemonProc) startTicker(t *testing.T) (*process, int) {
	t.Helper()
	p := startReady(t, "ticker")
	d.waitSocket(p.cmd.Process.Pid, true)
	return p, p.cmd.Process.Pid
}

// publicDir makes a directory of root's that everybody may read and
// search (the daemon's, and one for programs another user runs).
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "procgdb-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// homeOf makes a home directory for the user of cred.
func homeOf(t *testing.T, cred *syscall.Credential) string {
	t.Helper()
	dir := publicDir(t)
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// publicProg copies test program name where any user may run and read it.
// cp writes the copy: a file this process had open for writing could
// still be open in a child another goroutine forks, and exec would fail
// with "text file busy".
func publicProg(t *testing.T, name string) string {
	t.Helper()
	return publicCopy(t, prog(name))
}

// publicCopy copies the program at path as publicProg does.
func publicCopy(t *testing.T, path string) string {
	t.Helper()
	p := filepath.Join(publicDir(t), filepath.Base(path))
	if out, err := exec.Command("cp", path, p).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v: %s", path, err, out)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// startReadyAs starts program path as the user of cred and waits until it
// says it is ready.
func startReadyAs(t *testing.T, cred *syscall.Credential, path string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return waitReady(t, filepath.Base(path), startCmd(t, filepath.Base(path), cmd))
}

// tracerOf returns the TracerPid of process pid.
func tracerOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TracerPid:\s+(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/proc/%d/status has no TracerPid", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestProcDirSocketFollowsProcess: a process gets its socket, owned by its
// user with mode 0600, and loses it when it ends.
func TestProcDirSocketFollowsProcess(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	for _, cred := range []*syscall.Credential{nil, otherUser} {
		p := startReadyAs(t, cred, publicProg(t, "ticker"))
		pid := p.cmd.Process.Pid
		fi := d.waitSocket(pid, true)
		st := fi.Sys().(*syscall.Stat_t)
		want := uint32(0)
		if cred != nil {
			want = cred.Uid
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 || st.Uid != want {
			t.Errorf("%s: mode %v, owner %d; want a socket, 0600, owner %d", d.socket(pid), fi.Mode(), st.Uid, want)
		}
		p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
		d.waitSocket(pid, false)
	}
}

// TestProcDirDebugAndDetach: gdb's target remote DIR/PID attaches to the
// process; after detach it runs on untraced and unharmed.
func TestProcDirDebugAndDetach(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	p, pid := d.startTicker(t)
	tr := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "bt", "info threads", "detach")
	tr.match("bt", `in main \(\) at \S*ticker\.c:\d+`)
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d "ticker"`, pid, pid))
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))
	if tracer := tracerOf(t, pid); tracer != 0 {
		t.Errorf("after detach, process %d is traced by %d", pid, tracer)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirHandOff: a client that disconnects at a breakpoint leaves the
// process stopped there, traced by procgdb and clean of breakpoints; the
// next client finds it there.
func TestProcDirHandOff(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	tickBody := lineOf(t, "ticker.c", "tick-body")
	p, pid := d.startTicker(t)
	first := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "break tick", "continue", "print i", "disconnect")
	first.match("continue", fmt.Sprintf(`Breakpoint 1, tick \(i=\d+\) at \S*ticker\.c:%d`, tickBody))
	i := first.match("print i", `^\$1 = (\d+)$`)
	if tracerOf(t, pid) == 0 {
		t.Fatal("the process is not traced after the client disconnected")
	}
	next := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "bt", "print i", "info breakpoints", "detach")
	next.match("bt", fmt.Sprintf(`#0  tick \(i=\d+\) at \S*ticker\.c:%d`, tickBody))
	if len(i) == 2 {
		next.match("print i", `^\$1 = `+i[1]+`$`)
	}
	next.match("info breakpoints", `No breakpoints`)
	// A breakpoint left in tick() would kill it with SIGTRAP.
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirObserver: a second client observes: it reads memory and
// registers while the first steps the program, and memory while the
// program runs, and is refused what would change the process. When the
// first leaves, it takes control.
func TestProcDirObserver(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	p, pid := d.startTicker(t)
	ctx := clientCtx(t)
	dial := func() *client.Client {
		c, err := client.Dial(ctx, "unix", d.socket(pid))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ctl := dial()
	obs := dial()
	sum := symbolAddr(t, ctl, prog("ticker"), "sum")
	tick := symbolAddr(t, ctl, prog("ticker"), "tick")

	bp, err := ctl.SetBreakpoint(tick)
	if err != nil {
		t.Fatal(err)
	}
	stop := expect(t, "continue to tick", client.StopBreakpoint)(ctl.Continue(ctx))
	th := stop.Thread()

	for what, err := range map[string]error{
		"breakpoint": func() error { _, err := obs.SetBreakpoint(tick + 1); return err }(),
		"write":      obs.WriteMemory(sum, make([]byte, 8)),
		"step":       func() error { _, err := obs.Step(ctx, th); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), "only observes") {
			t.Errorf("observer's %s: %v, want a refusal that says it only observes", what, err)
		}
	}
	ctlPC, err := ctl.PC(th)
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := obs.PC(th); err != nil || pc != ctlPC {
		t.Errorf("observer reads pc %#x, %v; want the controller's %#x", pc, err, ctlPC)
	}

	// The observer reads while the controller steps.
	var wg sync.WaitGroup
	wg.Add(1)
	stepErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		for range 50 {
			if _, err := ctl.Step(ctx, th); err != nil {
				stepErr <- err
				return
			}
		}
		stepErr <- nil
	}()
	reads := 0
	for done := false; !done; {
		select {
		case err := <-stepErr:
			if err != nil {
				t.Fatalf("controller's step: %v", err)
			}
			done = true
		default:
			if _, err := obs.ReadMemory(sum, make([]byte, 8)); err != nil {
				t.Fatalf("observer's read while the controller steps: %v", err)
			}
			reads++
		}
	}
	wg.Wait()
	t.Logf("%d reads while the controller stepped", reads)

	// And while the program runs: the sum grows.
	if err := bp.Remove(); err != nil {
		t.Fatal(err)
	}
	read := func() uint64 {
		b := make([]byte, 8)
		if _, err := obs.ReadMemory(sum, b); err != nil {
			t.Fatalf("observer's read while the program runs: %v", err)
		}
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
	}
	if err := ctl.Resume(client.Action{Kind: client.Continue}); err != nil {
		t.Fatal(err)
	}
	before := read()
	deadline := time.Now().Add(readyTimeout)
	for read() == before && time.Now().Before(deadline) {
	}
	if read() == before {
		t.Error("the observer's reads do not see the program run")
	}
	if err := ctl.Interrupt(); err != nil {
		t.Fatal(err)
	}
	expect(t, "interrupt", client.StopSignal)(ctl.Wait(ctx))

	// The controller leaves: the observer takes control.
	ctl.Close()
	awaitControl(ctx, t, obs)
	if _, err := obs.SetBreakpoint(tick); err != nil {
		t.Fatalf("breakpoint by the new controller: %v", err)
	}
	expect(t, "the new controller continues to tick", client.StopBreakpoint)(obs.Continue(ctx))
	if err := obs.Detach(pid); err != nil {
		t.Fatal(err)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// awaitControl waits, within a bounded time, until c, an observer, says
// it controls its process (monitor info).
func awaitControl(ctx context.Context, t *testing.T, c *client.Client) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		info, err := c.Monitor(ctx, "info")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "controls (you)") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the observer does not take control:\n%s", info)
		}
	}
}

// TestProcDirAccess: another user debugs their own process, but not
// root's (the kernel refuses the connection: the socket is root's) nor
// their own non-dumpable one (procgdb refuses it with the reason).
func TestProcDirAccess(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	ticker := publicProg(t, "ticker")

	own := startReadyAs(t, otherUser, ticker)
	d.waitSocket(own.cmd.Process.Pid, true)
	tr := runGDBAs(t, otherUser, ticker, "target remote "+d.socket(own.cmd.Process.Pid), "info threads", "detach")
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, own.cmd.Process.Pid, own.cmd.Process.Pid))
	own.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)

	roots := startReady(t, "ticker")
	d.waitSocket(roots.cmd.Process.Pid, true)
	tr = runGDBAs(t, otherUser, ticker, "target remote "+d.socket(roots.cmd.Process.Pid))
	tr.match("target remote "+d.socket(roots.cmd.Process.Pid), `Permission denied`)

	// A process of theirs that runs with another group (as a set-group-ID
	// program would) is theirs by the socket's owner, and procgdb refuses
	// it by the gids, as ptrace would.
	group := startReadyAs(t, &syscall.Credential{Uid: otherUser.Uid, Gid: otherUser.Gid + 1}, ticker)
	d.waitSocket(group.cmd.Process.Pid, true)
	tr = runGDBAs(t, otherUser, "", "target remote "+d.socket(group.cmd.Process.Pid))
	tr.match("target remote "+d.socket(group.cmd.Process.Pid), fmt.Sprintf(`Remote failure reply: E\.process %d runs with another group's privileges \(gids %[2]d/%[2]d/%[2]d\)`, group.cmd.Process.Pid, otherUser.Gid+1))

	// A process that makes itself non-dumpable after its socket was made
	// keeps its user's socket (no process event says so), and is refused
	// by procgdb's own check.
	nodump := startReadyAs(t, otherUser, publicProg(t, "dumpable"))
	pid := nodump.cmd.Process.Pid
	d.waitSocket(pid, true)
	if _, err := io.WriteString(nodump.stdin, "nodump\n"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := nodump.out.wait(0, regexp.MustCompile(`^nodump ok$`), readyTimeout, nodump.done); err != nil {
		t.Fatal(err)
	}
	tr = runGDBAs(t, otherUser, "", "target remote "+d.socket(pid))
	tr.match("target remote "+d.socket(pid), fmt.Sprintf(`Remote failure reply: E\.process %d is not dumpable`, pid))
	if tracer := tracerOf(t, pid); tracer != 0 {
		t.Errorf("the refused client's process %d is traced by %d", pid, tracer)
	}
}

// TestProcDirLLDB: lldb connects with process connect unix-connect://
// (-p gdb-remote, which lldb needs to choose the protocol once it has a
// target).
func TestProcDirLLDB(t *testing.T) {
	prepare(t)
	needTool(t, "lldb")
	d := startDaemon(t)
	p, pid := d.startTicker(t)
	tr := runLLDB(t, prog("ticker"), "process connect -p gdb-remote unix-connect://"+d.socket(pid), "thread list", "bt", "process detach")
	tr.match("thread list", fmt.Sprintf(`thread #1: tid = %d`, pid))
	tr.match("bt", `ticker`+"`"+`main`)
	tr.match("process detach", fmt.Sprintf(`Process %d detached`, pid))
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirControl: through DIR/control (target extended-remote), a
// client runs programs as its own user with no_new_privs, reads files
// with its own rights, and attaches to its own processes but not to
// root's.
func TestProcDirControl(t *testing.T) {
	prepare(t)
	d := startDaemon(t, "--debug")
	control := filepath.Join(d.dir, "control")
	if fi, err := os.Lstat(control); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o666 {
		t.Fatalf("%s: %v, %v; want a socket every user may connect to", control, fi, err)
	}
	home := homeOf(t, otherUser)
	out := filepath.Join(home, "ids")
	ticker := publicProg(t, "ticker")
	own := startReadyAs(t, otherUser, ticker)
	roots := startReady(t, "ticker")
	run := fmt.Sprintf(`run -c 'id -u > %[1]s; id -G >> %[1]s; grep NoNewPrivs /proc/self/status >> %[1]s'`, out)
	get := "remote get /etc/shadow " + filepath.Join(home, "shadow")
	attachRoots := fmt.Sprintf("attach %d", roots.cmd.Process.Pid)
	attachOwn := fmt.Sprintf("attach %d", own.cmd.Process.Pid)
	tr := runGDBAs(t, otherUser, "", "target extended-remote "+control,
		"set remote exec-file /bin/sh", run, get, attachRoots, attachOwn, "info threads", "detach")
	tr.match(run, `exited normally`)
	if b, err := os.ReadFile(out); err != nil || string(b) != fmt.Sprintf("%d\n%d\nNoNewPrivs:\t1\n", otherUser.Uid, otherUser.Gid) {
		t.Errorf("the program said %q, %v; want its user's ids and no_new_privs", b, err)
	}
	tr.match(get, `Permission denied`)
	// gdb 13 shows no error text (it offers no error-message+); the
	// debug log does.
	tr.match(attachRoots, fmt.Sprintf(`Attaching to process %d failed`, roots.cmd.Process.Pid))
	if _, _, err := d.stderr.wait(0, regexp.MustCompile(fmt.Sprintf(`error reply.*cannot attach to process %[1]d: process %[1]d belongs to another user`, roots.cmd.Process.Pid)), readyTimeout, d.done); err != nil {
		t.Errorf("the reason of the refused attach: %v", err)
	}
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, own.cmd.Process.Pid, own.cmd.Process.Pid))
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, own.cmd.Process.Pid))
	own.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
	if tracer := tracerOf(t, roots.cmd.Process.Pid); tracer != 0 {
		t.Errorf("root's process is traced by %d after a refused attach", tracer)
	}
}

// TestProcDirSystemd: under socket activation procgdb serves the control
// socket systemd passed it (LISTEN_FDS, named control by
// LISTEN_FDNAMES) rather than making its own. systemd sets LISTEN_PID to
// the service's PID after the fork; a shell that execs procgdb does the
// same here.
func TestProcDirSystemd(t *testing.T) {
	prepare(t)
	var ino uint64
	d := startDaemonWith(t, func(cmd *exec.Cmd, dir string) {
		path := filepath.Join(dir, "control")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		f, err := ln.File()
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		t.Cleanup(func() { f.Close() })
		// The socket unit's SocketMode=0666.
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		ino = st.Ino
		cmd.ExtraFiles = []*os.File{f} // descriptor 3
		cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES=control")
		cmd.Args = append([]string{"sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`}, cmd.Args...)
		cmd.Path = "/bin/sh"
	}, "--debug")
	if _, _, err := d.stderr.wait(0, regexp.MustCompile(`control socket from systemd`), readyTimeout, d.done); err != nil {
		t.Errorf("procgdb does not say it took systemd's socket: %v", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(d.dir, "control"), &st); err != nil || st.Ino != ino {
		t.Errorf("DIR/control is not systemd's socket (inode %d, %v; want %d)", st.Ino, err, ino)
	}
	own := startReadyAs(t, otherUser, publicProg(t, "ticker"))
	pid := own.cmd.Process.Pid
	attach := fmt.Sprintf("attach %d", pid)
	tr := runGDBAs(t, otherUser, "", "target extended-remote "+filepath.Join(d.dir, "control"), attach, "info threads", "detach")
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, pid, pid))
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))
	own.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirCapSysPtrace: a user with CAP_SYS_PTRACE (here an ambient
// capability) debugs another user's process through the control socket,
// as ptrace would let it; the kernel keeps it out of that process's own
// socket, whose mode is 0600.
func TestProcDirCapSysPtrace(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	roots, pid := d.startTicker(t)
	capable := &syscall.SysProcAttr{Credential: otherUser, AmbientCaps: []uintptr{unix.CAP_SYS_PTRACE}}
	tr := runGDBProc(t, capable, "", "target remote "+d.socket(pid))
	tr.match("target remote "+d.socket(pid), `Permission denied`)
	attach := fmt.Sprintf("attach %d", pid)
	tr = runGDBProc(t, capable, "", "target extended-remote "+filepath.Join(d.dir, "control"), attach, "info threads", "detach")
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, pid, pid))
	tr.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))
	roots.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirYama: Yama's ptrace_scope, read at each connection, decides
// as the kernel would: another user's process that does not descend from
// its debugger is debugged under scope 0 only, and root's debugger (with
// CAP_SYS_PTRACE) is refused only under scope 3. The test does not change
// the scope (3 cannot be undone until reboot).
func TestProcDirYama(t *testing.T) {
	prepare(t)
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if os.IsNotExist(err) {
		t.Skip("this kernel has no Yama (/proc/sys/kernel/yama/ptrace_scope is absent); procdir's TestCheck covers scopes 0 to 3")
	}
	if err != nil {
		t.Fatal(err)
	}
	scope, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t)
	p := startReadyAs(t, otherUser, publicProg(t, "ticker"))
	pid := p.cmd.Process.Pid
	d.waitSocket(pid, true)
	connect := "target remote " + d.socket(pid)
	tr := runGDBAs(t, otherUser, "", connect, "info threads", "detach")
	want := map[int]string{
		0: fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, pid, pid),
		1: `E\.Yama ptrace_scope=1 lets only a process's ancestors and CAP_SYS_PTRACE debug it`,
		2: `E\.Yama ptrace_scope=2 allows only CAP_SYS_PTRACE`,
		3: `E\.Yama ptrace_scope=3 allows no process to be debugged`,
	}[scope]
	if scope == 0 {
		tr.match("info threads", want)
	} else {
		tr.match(connect, want)
	}
	tr = runGDB(t, "", connect, "info threads", "detach")
	if scope < 3 {
		tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, pid, pid))
	} else {
		tr.match(connect, want)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirPolling: a daemon that may not read the kernel's process
// events (no CAP_NET_ADMIN, dropped here with setpriv) finds processes by
// scanning /proc, and serves them as well.
func TestProcDirPolling(t *testing.T) {
	prepare(t)
	setpriv := needTool(t, "setpriv")
	d := startDaemonWith(t, func(cmd *exec.Cmd, _ string) {
		cmd.Args = append([]string{"setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin"}, cmd.Args...)
		cmd.Path = setpriv
	}, "--debug")
	if _, _, err := d.stderr.wait(0, regexp.MustCompile(`following="scanning /proc"`), readyTimeout, d.done); err != nil {
		t.Fatalf("procgdb without CAP_NET_ADMIN does not scan /proc: %v", err)
	}
	p, pid := d.startTicker(t)
	tr := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "monitor info", "info threads", "detach")
	tr.match("monitor info", `processes found by scanning /proc`)
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d "ticker"`, pid, pid))
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
	d.waitSocket(pid, false)
}

// TestProcDirSystemdUnits: the shipped units (contrib/systemd) are ones
// systemd takes, with ExecStart pointing at the procgdb under test.
func TestProcDirSystemdUnits(t *testing.T) {
	onlyProcgdb(t, "procgdb's systemd units")
	analyze := needTool(t, "systemd-analyze")
	dir := t.TempDir()
	for _, name := range []string{"procgdb-procdir.service", "procgdb-procdir.socket"} {
		b, err := os.ReadFile(filepath.Join("..", "contrib", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		unit := strings.ReplaceAll(string(b), "/usr/local/bin/procgdb", suite.stubPath)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "./procgdb-procdir.service", "./procgdb-procdir.socket")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestProcDirNonStop: a controller in non-stop mode (QNonStop:1, then
// vCont;c) runs the program's threads while an observer reads their
// counters; when it disconnects, the threads are stopped for the
// observer, who takes control and detaches, after which the program runs
// on untraced. (The controller speaks raw packets: gdb 13 fails an
// assertion when a non-stop "target remote" is told of several stopped
// threads, as procgdb tells it of every thread an attach stopped;
// gdbserver tells of one.)
func TestProcDirNonStop(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	p := startProcess(t, "nonstop")
	pid := p.cmd.Process.Pid
	d.waitSocket(pid, true)
	ctx := clientCtx(t)
	ctl, err := client.Dial(ctx, "unix", d.socket(pid))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	for _, pk := range []string{"QNonStop:1", "vCont;c"} {
		if r, err := ctl.Raw().Exchange(pk); err != nil || r != "OK" {
			t.Fatalf("%s: %q, %v", pk, r, err)
		}
	}

	obs, err := client.Dial(ctx, "unix", d.socket(pid))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Close() })
	counter := symbolAddr(t, obs, prog("nonstop"), "counters")
	read := func() uint64 {
		b := make([]byte, 8)
		if _, err := obs.ReadMemory(counter, b); err != nil {
			t.Fatalf("observer's read: %v", err)
		}
		return binary.LittleEndian.Uint64(b)
	}
	before := read()
	deadline := time.Now().Add(readyTimeout)
	for read() == before && time.Now().Before(deadline) {
	}
	if read() == before {
		t.Fatal("the observer does not see the controller's threads run")
	}

	ctl.Close()
	awaitControl(ctx, t, obs)
	if stopped, again := read(), read(); stopped != again {
		t.Errorf("the counter moves (%d, %d) after the non-stop controller left: its threads must be stopped", stopped, again)
	}
	if err := obs.Detach(pid); err != nil {
		t.Fatal(err)
	}
	status := readFile(t, fmt.Sprintf("/proc/%d/status", pid))
	if !strings.Contains(status, "TracerPid:\t0\n") || regexp.MustCompile(`State:\s+[tT]`).MatchString(status) {
		t.Fatalf("process %d after detach:\n%s", pid, status)
	}
}

// TestProcDirNotRoot: a daemon run by an ordinary user serves that
// user's processes, with that user's rights, and no one else's: the
// user's own process gets a socket and is debugged through it, root's
// gets none, and a program run through the control socket runs as the
// user.
func TestProcDirNotRoot(t *testing.T) {
	prepare(t)
	d := startDaemonWith(t, func(cmd *exec.Cmd, dir string) {
		if err := os.Chown(dir, int(otherUser.Uid), int(otherUser.Gid)); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr.Credential = otherUser
		cmd.Path = publicCopy(t, cmd.Path)
	})
	ticker := publicProg(t, "ticker")
	roots := startReady(t, "ticker")
	own := startReadyAs(t, otherUser, ticker)
	pid := own.cmd.Process.Pid
	d.waitSocket(pid, true)
	// The daemon learnt of root's process before its user's.
	if _, err := os.Lstat(d.socket(roots.cmd.Process.Pid)); err == nil {
		t.Errorf("a daemon run by uid %d made a socket for root's process", otherUser.Uid)
	}
	tr := runGDBAs(t, otherUser, ticker, "target remote "+d.socket(pid), "info threads", "detach")
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d`, pid, pid))
	own.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)

	out := filepath.Join(homeOf(t, otherUser), "ids")
	run := fmt.Sprintf(`run -c 'id -u > %s'`, out)
	tr = runGDBAs(t, otherUser, "", "target extended-remote "+filepath.Join(d.dir, "control"), "set remote exec-file /bin/sh", run)
	tr.match(run, `exited normally`)
	if b, err := os.ReadFile(out); err != nil || string(b) != fmt.Sprintf("%d\n", otherUser.Uid) {
		t.Errorf("the program said %q, %v; want its user's id", b, err)
	}
}

// TestProcDirTerminate: procgdb --proc-dir stopped with SIGTERM lets go
// of a process a client left stopped at a breakpoint (it runs on,
// untraced and unharmed) and removes its sockets.
func TestProcDirTerminate(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	p, pid := d.startTicker(t)
	tr := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "break tick", "continue", "disconnect")
	tr.match("continue", `Breakpoint 1, tick`)
	d.waitHeld(pid)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(readyTimeout):
		t.Fatalf("procgdb --proc-dir still runs %v after SIGTERM", readyTimeout)
	}
	if tracer := tracerOf(t, pid); tracer != 0 {
		t.Errorf("process %d is traced by %d after procgdb ended", pid, tracer)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
	if left, err := os.ReadDir(d.dir); err != nil || len(left) > 0 {
		t.Errorf("procgdb left %v in its directory (%v)", left, err)
	}
}

// startCommanded starts testdata/dumpable.c as otherUser, reading its
// commands from a FIFO of that user's, where gdb (as that user) writes
// them with "shell echo ... > FIFO"; the process reads them once gdb
// continues it. It waits for the process's socket.
func (d *daemonProc) startCommanded(t *testing.T) (p *process, pid int, fifo string) {
	t.Helper()
	fifo = filepath.Join(homeOf(t, otherUser), "commands")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(fifo, int(otherUser.Uid), int(otherUser.Gid)); err != nil {
		t.Fatal(err)
	}
	p = startReadyAs(t, otherUser, publicProg(t, "dumpable"), fifo)
	pid = p.cmd.Process.Pid
	d.waitSocket(pid, true)
	return p, pid, fifo
}

// TestProcDirExec: a client's process that runs another program of its
// user's stays the client's: gdb follows it into the new program, to its
// end.
func TestProcDirExec(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	_, pid, fifo := d.startCommanded(t)
	feed := fmt.Sprintf("shell echo exec /bin/true > %s", fifo)
	tr := runGDBAs(t, otherUser, "", "target remote "+d.socket(pid), feed, "continue")
	tr.match("continue", fmt.Sprintf(`process %d is executing new program: \S*true(?s:.*)\[Inferior 1 \(process %d\) exited normally\]`, pid, pid))
}

// TestProcDirSetuidExec: a client's process that runs a set-user-ID
// program would get its owner's rights under procgdb, a privileged
// tracer, where its client's own debugger could not have traced it on:
// procgdb checks the client again at the exec, finds it may not debug
// the process any more, and lets the process go before the new program
// runs, ending the client's connection. The program runs with its
// rights, untraced, as without a debugger.
func TestProcDirSetuidExec(t *testing.T) {
	prepare(t)
	suid := publicCopy(t, "/usr/bin/id")
	if err := os.Chown(suid, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	probe := exec.Command(suid)
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: otherUser}
	if out, err := probe.Output(); err != nil || !strings.Contains(string(out), "euid=0") {
		t.Skipf("set-user-ID bits have no effect in %s (a nosuid mount?): %s %v", filepath.Dir(suid), out, err)
	}
	d := startDaemon(t, "--debug")
	p, pid, fifo := d.startCommanded(t)
	feed := fmt.Sprintf("shell echo exec %s > %s", suid, fifo)
	tr := runGDBAs(t, otherUser, "", "target remote "+d.socket(pid), feed, "continue")
	if _, _, err := d.stderr.wait(0, regexp.MustCompile(fmt.Sprintf(`client dropped at exec.* pid=%d .*reason="process %d runs with another user's privileges`, pid, pid)), readyTimeout, d.done); err != nil {
		t.Errorf("procgdb does not drop the client at the set-user-ID exec: %v", err)
	}
	if _, _, err := p.out.wait(0, regexp.MustCompile(fmt.Sprintf(`^uid=%d\b.* euid=0\b`, otherUser.Uid)), readyTimeout, p.done); err != nil {
		t.Errorf("the set-user-ID program did not run with its rights: %v", err)
	}
	tr.match("continue", `Remote connection closed|Remote communication error`)
}

// TestProcDirDisconnectWhileRunning: a controller that goes while its
// program runs leaves it to procgdb, which stops it for the next client.
func TestProcDirDisconnectWhileRunning(t *testing.T) {
	prepare(t)
	d := startDaemon(t)
	p, pid := d.startTicker(t)
	ctx := clientCtx(t)
	ctl, err := client.Dial(ctx, "unix", d.socket(pid))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Resume(client.Action{Kind: client.Continue}); err != nil {
		t.Fatal(err)
	}
	ctl.Close()
	d.waitHeld(pid)
	next := runGDB(t, prog("ticker"), "target remote "+d.socket(pid), "info threads", "detach")
	next.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d "ticker"`, pid, pid))
	next.match("detach", fmt.Sprintf(`\[Inferior 1 \(process %d\) detached\]`, pid))
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

// TestProcDirMaxClients: --max-clients bounds the daemon's clients of all
// sockets together; one over it is refused with the reason and its
// process is left alone, and a place freed is taken again.
func TestProcDirMaxClients(t *testing.T) {
	prepare(t)
	d := startDaemon(t, "--max-clients", "1")
	_, pid := d.startTicker(t)
	other, otherPID := d.startTicker(t)
	ctx := clientCtx(t)
	first, err := client.Dial(ctx, "unix", d.socket(pid))
	if err != nil {
		t.Fatal(err)
	}
	tr := runGDB(t, "", "target remote "+d.socket(otherPID))
	tr.match("target remote "+d.socket(otherPID), `Remote failure reply: E\.procgdb serves as many clients as it may \(--max-clients 1\): try again later`)
	if tracer := tracerOf(t, otherPID); tracer != 0 {
		t.Errorf("the refused client's process %d is traced by %d", otherPID, tracer)
	}
	if err := first.Detach(pid); err != nil {
		t.Fatal(err)
	}
	first.Close()
	// The place is free once the daemon has seen the client go.
	deadline := time.Now().Add(readyTimeout)
	for {
		tr = runGDB(t, prog("ticker"), "target remote "+d.socket(otherPID), "info threads", "detach")
		if !strings.Contains(tr.all, "--max-clients") || time.Now().After(deadline) {
			break
		}
	}
	tr.match("info threads", fmt.Sprintf(`\*\s+1\s+Thread %d\.%d "ticker"`, otherPID, otherPID))
	other.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}
