//go:build linux

package procdir

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watch starts a Dir on dir for the test.
func watch(t *testing.T, dir string, opts Options) *Dir {
	t.Helper()
	d, err := Watch(context.Background(), dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSocketsFollowProcesses(t *testing.T) {
	needRoot(t)
	modes(t, func(t *testing.T, opts Options) {
		dir := tempDir(t)
		w := watchDir(t, dir)
		d := watch(t, dir, opts)
		assert.Equal(t, !opts.Poll, d.Events())
		_, mine := socket(dir, os.Getpid())
		assert.False(t, mine, "procgdb's own process has no socket")

		p := start(t, uidA, "wait")
		w.until(t, "socket of a new process", hasSocket(dir, p.pid()))
		st, _ := socket(dir, p.pid())
		assert.Equal(t, uint32(uidA), st.Uid, "owner")
		assert.Equal(t, uint32(0o600), st.Mode&0o7777, "mode")

		// The process is a Go program: it has other threads, which are
		// not processes.
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.pid()))
		require.NoError(t, err)
		assert.Greater(t, len(tasks), 1, "threads")
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			_, ok := socket(dir, tid)
			assert.Equal(t, tid == p.pid(), ok, "socket of thread %d of process %d", tid, p.pid())
		}

		p.end(t)
		w.until(t, "socket removed when its process ends", noSocket(dir, p.pid()))

		require.NoError(t, d.Close())
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "Close removes the sockets and the stage directory")
	})
}

func TestOwnerFollowsCredentials(t *testing.T) {
	needRoot(t)
	modes(t, func(t *testing.T, opts Options) {
		dir := tempDir(t)
		w := watchDir(t, dir)
		watch(t, dir, opts)
		p := start(t, 0, "nodump")
		w.until(t, "socket of root's process", ownedBy(dir, p.pid(), 0))

		// setresuid, then exec: the program runs as uidA, dumpable again.
		assert.Equal(t, "ok", p.ask(t, fmt.Sprintf("become %d", uidA)))
		w.until(t, "socket given to the process's new owner", ownedBy(dir, p.pid(), uidA))
	})
}

func TestDirRefused(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name  string
		setUp func(t *testing.T, dir string) string
		want  string
	}{
		{"a symbolic link", func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "link")
			require.NoError(t, os.Symlink(dir, link))
			return link
		}, "not a directory (a symbolic link is refused)"},
		{"writable by others", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o777))
			return dir
		}, "writable by others (mode 0777)"},
		{"another user's", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chown(dir, uidA, uidA))
			return dir
		}, "owned by uid 47001, not procgdb's 0"},
		{"under a directory others may write in", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o777))
			sub := filepath.Join(dir, "sub")
			require.NoError(t, os.Mkdir(sub, 0o755))
			return sub
		}, "writable by others (mode 0777)"},
		{"served by another procgdb", func(t *testing.T, dir string) string {
			watch(t, dir, Options{Poll: true, Interval: time.Hour})
			return dir
		}, "another procgdb serves it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setUp(t, tempDir(t))
			_, err := Watch(context.Background(), dir, Options{Poll: true})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDirCleanedAtStart(t *testing.T) {
	needRoot(t)
	dir := tempDir(t)
	// What a procgdb killed without closing would leave.
	for _, name := range []string{"999999999", ".new/123"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700))
		l, err := net.Listen("unix", filepath.Join(dir, name))
		require.NoError(t, err)
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "control"), nil, 0o644))
	watch(t, dir, Options{Poll: true, Interval: time.Hour})
	_, err := os.Lstat(filepath.Join(dir, "999999999"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a stale socket is removed")
	_, err = os.Lstat(filepath.Join(dir, "control"))
	assert.NoError(t, err, "what is not a PID's socket stays")
	entries, err := os.ReadDir(filepath.Join(dir, ".new"))
	require.NoError(t, err)
	assert.Empty(t, entries, "the stage directory is emptied")
}

// answer serves d: each connection is checked and told "allowed" or
// "refused: REASON", then closed.
func answer(t *testing.T, d *Dir) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := d.Accept(ctx)
			if err != nil {
				return
			}
			if err := c.Check(); err != nil {
				fmt.Fprintf(c, "refused: %v\n", err)
			} else {
				fmt.Fprintln(c, "allowed")
			}
			c.Close()
		}
	}()
}

func TestAccess(t *testing.T) {
	needRoot(t)
	modes(t, func(t *testing.T, opts Options) {
		// The processes start first and the directory follows them no
		// further (an hour between looks): the sockets keep the owners
		// they had when Watch started.
		mine := start(t, uidA, "wait")
		roots := start(t, 0, "wait")
		later := start(t, uidA, "nodump")
		dir := tempDir(t)
		opts.Interval = time.Hour
		d := watch(t, dir, opts)
		answer(t, d)
		path := func(p *testProc) string { return filepath.Join(dir, strconv.Itoa(p.pid())) }
		for _, p := range []*testProc{mine, roots, later} {
			_, ok := socket(dir, p.pid())
			require.True(t, ok, "socket of process %d", p.pid())
		}

		assert.Equal(t, "allowed", connectAs(t, uidA, path(mine)), "the owner")
		assert.Equal(t, "connect: permission denied", connectAs(t, uidB, path(mine)), "another user, by the kernel")
		assert.Equal(t, "connect: permission denied", connectAs(t, uidA, path(roots)), "root's process, by the kernel")
		assert.Equal(t, "allowed", connectAs(t, 0, path(roots)), "root")
		assert.Equal(t, "allowed", connectAs(t, 0, path(mine)), "root, another user's process")

		// The check decides where the socket's owner is out of date: a
		// process that made itself non-dumpable (no process event says
		// so), and a socket given to the wrong user (here by hand).
		assert.Equal(t, "ok", later.ask(t, "nodump"))
		assert.Equal(t, fmt.Sprintf("refused: process %d is not dumpable", later.pid()), connectAs(t, uidA, path(later)))
		assert.Equal(t, "allowed", connectAs(t, 0, path(later)), "root, a non-dumpable process")
		require.NoError(t, os.Chown(path(mine), uidB, uidB))
		assert.Equal(t, fmt.Sprintf("refused: process %d belongs to another user", mine.pid()), connectAs(t, uidB, path(mine)))
	})
}

// The check is made after the connection: it refuses processes that
// ended in between, on either side.
func TestCheckAfterExit(t *testing.T) {
	needRoot(t)
	dir := tempDir(t)
	w := watchDir(t, dir)
	d := watch(t, dir, Options{Poll: true})
	target := start(t, uidA, "wait")
	w.until(t, "socket", hasSocket(dir, target.pid()))
	path := filepath.Join(dir, strconv.Itoa(target.pid()))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	client := start(t, uidA, "connect-exit", path)
	assert.Equal(t, "connected", client.line(t))
	require.NoError(t, client.cmd.Wait())
	c, err := d.Accept(ctx)
	require.NoError(t, err)
	assert.Equal(t, target.pid(), c.PID)
	assert.Equal(t, int32(client.pid()), c.Cred.Pid)
	assert.Equal(t, uint32(uidA), c.Cred.Uid)
	assert.EqualError(t, c.Check(), "your debugger's process has exited")
	c.Close()

	nc, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer nc.Close()
	c, err = d.Accept(ctx)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Check())
	target.end(t)
	err = c.Check()
	var r *Refusal
	require.True(t, errors.As(err, &r), "%v", err)
	assert.Equal(t, fmt.Sprintf("process %d has exited", target.pid()), r.Reason)
}

func TestAcceptAfterClose(t *testing.T) {
	needRoot(t)
	d := watch(t, tempDir(t), Options{Poll: true, Interval: time.Hour})
	require.NoError(t, d.Close())
	_, err := d.Accept(context.Background())
	assert.ErrorIs(t, err, net.ErrClosed)
}

// A procgdb that is not root serves its own user's processes.
func TestNotRoot(t *testing.T) {
	needRoot(t)
	dir := tempDir(t)
	require.NoError(t, os.Chown(dir, uidA, uidA))
	w := watchDir(t, dir)
	d := start(t, uidA, "daemon", dir, "auto")
	t.Log(d.line(t)) // process events need CAP_NET_ADMIN: "ready poll"
	roots := start(t, 0, "wait")
	mine := start(t, uidA, "wait")
	// Root's process, started first, has been looked at by the time this
	// one has its socket (but across a wrap of PIDs, in one scan).
	w.until(t, "socket of the daemon's user's process", ownedBy(dir, mine.pid(), uidA))
	_, ok := socket(dir, roots.pid())
	assert.False(t, ok, "root's process has no socket")
	_, ok = socket(dir, d.pid())
	assert.False(t, ok, "the daemon has no socket")
	d.end(t)
	w.until(t, "sockets removed", noSocket(dir, mine.pid()))
}

// A connection to a socket of procgdb's own (its control socket) names
// no process: each process the peer asks for is checked, and the peer's
// credentials are what procgdb acts with for it.
func TestNewConn(t *testing.T) {
	needRoot(t)
	path := filepath.Join(tempDir(t), "control")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, os.Chmod(path, 0o666))
	mine := start(t, uidA, "wait")
	roots := start(t, 0, "wait")
	client := start(t, uidA, "connect", path)
	uc, err := l.AcceptUnix()
	require.NoError(t, err)
	c, err := NewConn(uc)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 0, c.PID)
	assert.Equal(t, int32(client.pid()), c.Cred.Pid)
	cred, err := c.Credentials()
	require.NoError(t, err)
	assert.Equal(t, Credentials{UID: uidA, GID: uidA}, cred)
	assert.NoError(t, c.CheckProcess(mine.pid()))
	assert.EqualError(t, c.CheckProcess(roots.pid()), fmt.Sprintf("process %d belongs to another user", roots.pid()))
	assert.EqualError(t, c.Check(), "this socket names no process")
}
