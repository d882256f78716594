//go:build linux

package procdir

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// stageName is the private directory in DIR where a socket is made
// before it is renamed into place, with its final owner and mode.
const stageName = ".new"

// backlog is each socket's queue of connections not yet accepted.
const backlog = 16

// sockets is DIR, opened and checked, where sockets are made and removed
// by name relative to descriptors: never through a path someone could
// change under procgdb.
type sockets struct {
	path  string
	dir   int // DIR, locked against a second procgdb
	stage int // DIR/.new, mode 0700
	// bindPrefix names the stage directory through its descriptor, for
	// bind(2), which takes only a path.
	bindPrefix string
}

// openSockets opens DIR, checks that it is procgdb's own, takes it from
// any procgdb that left it (removing their sockets) and makes the stage
// directory.
//
// DIR must be a directory (not a symbolic link) owned by this process's
// effective uid and writable by nobody else, and each directory above it
// must be owned by root or by this uid and be writable by nobody else
// unless it is sticky (as /tmp is): otherwise someone could put other
// sockets where clients look for procgdb's.
func openSockets(path string) (*sockets, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("%s: not a directory (a symbolic link is refused)", path)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	s := &sockets{path: path, dir: fd, stage: -1}
	if err := s.setUp(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *sockets) setUp() error {
	var st unix.Stat_t
	if err := unix.Fstat(s.dir, &st); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	if err := safeDir(s.path, st, false); err != nil {
		return err
	}
	// The real path, as the kernel resolved it, for the check of the
	// directories above.
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(s.dir))
	if err != nil {
		return err
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := safeDir(p, st, true); err != nil {
			return fmt.Errorf("above %s: %w", s.path, err)
		}
		if p == "/" {
			break
		}
	}
	if err := unix.Flock(s.dir, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("%s: another procgdb serves it", s.path)
		}
		return fmt.Errorf("lock %s: %w", s.path, err)
	}
	if err := s.clean(); err != nil {
		return err
	}
	if err := unix.Mkdirat(s.dir, stageName, 0o700); err != nil {
		return fmt.Errorf("%s/%s: %w", s.path, stageName, err)
	}
	s.stage, err = unix.Openat(s.dir, stageName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", s.path, stageName, err)
	}
	s.bindPrefix = "/proc/self/fd/" + strconv.Itoa(s.stage) + "/"
	return nil
}

// safeDir checks that directory p, with status st, is owned by this
// process's effective uid (or root, for one above DIR) and that nobody
// else may write in it (unless above DIR and sticky).
func safeDir(p string, st unix.Stat_t, above bool) error {
	me := uint32(os.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s: not a directory", p)
	case st.Uid != me && !(above && st.Uid == 0):
		return fmt.Errorf("%s: owned by uid %d, not procgdb's %d", p, st.Uid, me)
	case st.Mode&0o022 != 0 && !(above && st.Mode&unix.S_ISVTX != 0):
		return fmt.Errorf("%s: writable by others (mode %#o)", p, st.Mode&0o7777)
	}
	return nil
}

// clean removes what a procgdb that did not close DIR left in it: the
// sockets named by PIDs and the stage directory.
func (s *sockets) clean() error {
	if stage, err := unix.Openat(s.dir, stageName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
		err := removeSockets(stage, func(string) bool { return true })
		unix.Close(stage)
		if err != nil {
			return err
		}
		if err := unix.Unlinkat(s.dir, stageName, unix.AT_REMOVEDIR); err != nil {
			return fmt.Errorf("%s/%s: %w", s.path, stageName, err)
		}
	} else if !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s/%s: %w", s.path, stageName, err)
	}
	return removeSockets(s.dir, isPID)
}

// removeSockets unlinks the sockets in directory dir whose names pass
// match.
func removeSockets(dir int, match func(string) bool) error {
	names, err := readNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		var st unix.Stat_t
		if !match(name) || unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
			continue
		}
		if err := unix.Unlinkat(dir, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}

// readNames lists directory dir.
func readNames(dir int) ([]string, error) {
	fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	return f.Readdirnames(-1)
}

// isPID tells whether name is a PID as /proc and DIR spell them.
func isPID(name string) bool {
	_, ok := parsePID(name)
	return ok
}

// parsePID reads a PID spelt as /proc spells it: decimal digits, no
// leading zero, a positive 32-bit number.
func parsePID[T string | []byte](s T) (int, bool) {
	if len(s) == 0 || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= math.MaxInt32
}

// listen makes DIR/PID, a listening socket owned by owner with mode
// 0600, and returns its descriptor, non-blocking. The socket is made in
// the stage directory, where nobody else may reach it, and renamed into
// place complete: no moment exists in which another user could connect.
func (s *sockets) listen(pid int, owner uint32) (int, error) {
	name := strconv.Itoa(pid)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// A file left by a failed attempt would make bind fail.
	unix.Unlinkat(s.stage, name, 0)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: s.bindPrefix + name})
	if err == nil {
		err = unix.Listen(fd, backlog)
	}
	if err == nil {
		err = unix.Fchmodat(s.stage, name, 0o600, 0)
	}
	if err == nil {
		err = unix.Fchownat(s.stage, name, int(owner), -1, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err == nil {
		err = unix.Renameat(s.stage, name, s.dir, name)
	}
	if err != nil {
		unix.Unlinkat(s.stage, name, 0)
		unix.Close(fd)
		return -1, fmt.Errorf("socket %s/%s: %w", s.path, name, err)
	}
	return fd, nil
}

// chown gives DIR/PID to owner.
func (s *sockets) chown(pid int, owner uint32) error {
	name := strconv.Itoa(pid)
	if err := unix.Fchownat(s.dir, name, int(owner), -1, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s/%s: %w", s.path, name, err)
	}
	return nil
}

// remove unlinks DIR/PID.
func (s *sockets) remove(pid int) error {
	name := strconv.Itoa(pid)
	if err := unix.Unlinkat(s.dir, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s/%s: %w", s.path, name, err)
	}
	return nil
}

// close removes the stage directory and lets DIR go (the caller removed
// the sockets).
func (s *sockets) close() {
	if s.stage >= 0 {
		unix.Close(s.stage)
		unix.Unlinkat(s.dir, stageName, unix.AT_REMOVEDIR)
	}
	unix.Close(s.dir)
}
