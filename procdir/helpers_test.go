//go:build linux

package procdir

import (
	"bufio"
	"fmt"
	"io"
	"net"
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
)

// Two users the tests run processes as: no user database is needed to
// run a process under a uid.
const (
	uidA = 47001
	uidB = 47002
)

// wait bounds every wait for something the tests are waiting to happen.
const wait = 20 * time.Second

// childEnv names the role of the test binary run as a child process.
const childEnv = "PROCDIR_TEST_CHILD"

// testBinary is a copy of the test binary that any user may run, made by
// TestMain.
var testBinary string

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(child(role, os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "procdir-bin-")
	if err == nil {
		testBinary = filepath.Join(dir, "procdir.test")
		err = copyExecutable(testBinary)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func copyExecutable(dst string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// child runs the test binary as one of the tests' processes:
//
//   - wait: reads stdin to its end, then exits.
//   - nodump: as wait, but on a line "nodump" makes itself non-dumpable
//     and on a line "become UID" takes that uid and gid and runs itself
//     again (as wait) under them; each answers "ok".
//   - connect PATH: connects to PATH and copies what it reads to stdout,
//     or writes "connect: ERROR".
//   - connect-exit PATH: connects to PATH, writes "connected", and exits.
//   - daemon DIR MODE: see daemon.
func child(role string, args []string) int {
	switch role {
	case "wait":
		io.Copy(io.Discard, os.Stdin)
	case "nodump":
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			f := strings.Fields(in.Text())
			switch {
			case len(f) == 1 && f[0] == "nodump":
				if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
					fmt.Println(err)
					return 1
				}
			case len(f) == 2 && f[0] == "become":
				id, _ := strconv.Atoi(f[1])
				if err := syscall.Setresgid(id, id, id); err != nil {
					fmt.Println(err)
					return 1
				}
				if err := syscall.Setresuid(id, id, id); err != nil {
					fmt.Println(err)
					return 1
				}
				fmt.Println("ok")
				env := []string{childEnv + "=wait"}
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, childEnv+"=") {
						env = append(env, kv)
					}
				}
				err := syscall.Exec(os.Args[0], os.Args[:1], env)
				fmt.Println(err)
				return 1
			}
			fmt.Println("ok")
		}
	case "daemon":
		return daemon(args)
	case "connect", "connect-exit":
		c, err := net.Dial("unix", args[0])
		if err != nil {
			fmt.Println("connect:", errorText(err))
			return 0
		}
		if role == "connect-exit" {
			fmt.Println("connected")
			return 0
		}
		io.Copy(os.Stdout, c)
	default:
		return 2
	}
	return 0
}

// errorText is the errno's text of err, without the path.
func errorText(err error) string {
	var errno syscall.Errno
	if e, ok := err.(*net.OpError); ok {
		if se, ok := e.Err.(*os.SyscallError); ok {
			if errno, ok = se.Err.(syscall.Errno); ok {
				return errno.Error()
			}
		}
	}
	return err.Error()
}

// needRoot skips a test that runs processes as other users.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run processes as other users and give them their sockets")
	}
}

// proc is a test process, with a pipe to its stdin and its stdout.
type testProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// start runs the test binary in role as uid (and the gid of the same
// number), ending it when the test ends.
func start(t testing.TB, uid int, role string, args ...string) *testProc {
	t.Helper()
	cmd := exec.Command(testBinary, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	cmd.Stderr = os.Stderr
	if uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}}
	}
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &testProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		p.in.Close()
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	return p
}

func (p *testProc) pid() int { return p.cmd.Process.Pid }

// ask writes a line to the process and returns the line it answers.
func (p *testProc) ask(t *testing.T, line string) string {
	t.Helper()
	_, err := fmt.Fprintln(p.in, line)
	require.NoError(t, err)
	return p.line(t)
}

func (p *testProc) line(t testing.TB) string {
	t.Helper()
	s, err := p.out.ReadString('\n')
	require.NoError(t, err, "process %d's answer", p.pid())
	return strings.TrimSuffix(s, "\n")
}

// end closes the process's stdin and waits for it to exit.
func (p *testProc) end(t testing.TB) {
	t.Helper()
	p.in.Close()
	require.NoError(t, p.cmd.Wait())
}

// connectAs connects to path as uid and returns what the connection
// read, or "connect: ERROR".
func connectAs(t *testing.T, uid int, path string) string {
	t.Helper()
	p := start(t, uid, "connect", path)
	b, err := io.ReadAll(p.out)
	require.NoError(t, err)
	require.NoError(t, p.cmd.Wait())
	return strings.TrimSpace(string(b))
}

// tempDir makes a directory for sockets that every user may search,
// owned by this process and writable only by it.
func tempDir(t testing.TB) string { return tempDirIn(t, "") }

// tempDirIn is tempDir in directory parent (os.TempDir when empty).
func tempDirIn(t testing.TB, parent string) string {
	t.Helper()
	dir, err := os.MkdirTemp(parent, "procdir-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// dirWatch wakes a test up on every change in a directory (inotify), to
// look again at what it waits for.
type dirWatch struct {
	dir string
	f   *os.File
	buf []byte
}

func watchDir(t *testing.T, dir string) *dirWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	require.NoError(t, err)
	_, err = unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_ATTRIB)
	require.NoError(t, err)
	w := &dirWatch{dir: dir, f: os.NewFile(uintptr(fd), "inotify"), buf: make([]byte, 64<<10)}
	t.Cleanup(func() { w.f.Close() })
	return w
}

// until returns once cond holds, looking again after each change in the
// directory, and fails the test if that takes longer than wait.
func (w *dirWatch) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	require.NoError(t, w.f.SetReadDeadline(deadline))
	for !cond() {
		if _, err := w.f.Read(w.buf); err != nil {
			t.Fatalf("%s: not within %v: %v", what, wait, err)
		}
	}
}

// socket returns the status of DIR/PID, and whether it is a socket.
func socket(dir string, pid int) (unix.Stat_t, bool) {
	var st unix.Stat_t
	err := unix.Lstat(filepath.Join(dir, strconv.Itoa(pid)), &st)
	return st, err == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// hasSocket and noSocket are conditions for dirWatch.until.
func hasSocket(dir string, pid int) func() bool {
	return func() bool { _, ok := socket(dir, pid); return ok }
}

func noSocket(dir string, pid int) func() bool {
	return func() bool { _, ok := socket(dir, pid); return !ok }
}

// ownedBy is a condition: DIR/PID exists and belongs to uid.
func ownedBy(dir string, pid int, uid uint32) func() bool {
	return func() bool { st, ok := socket(dir, pid); return ok && st.Uid == uid }
}

// modes runs f for each way of following processes this machine has:
// the kernel's process events (where procgdb may listen) and polling.
func modes(t *testing.T, f func(t *testing.T, opts Options)) {
	t.Run("events", func(t *testing.T) {
		fd, err := openEvents()
		if err != nil {
			t.Skipf("no process events here: %v", err)
		}
		unix.Close(fd)
		f(t, Options{})
	})
	t.Run("poll", func(t *testing.T) { f(t, Options{Poll: true}) })
}
