package main

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"procgdb/procdir"
	"procgdb/rsp"
)

// The daemon's host I/O (vFile) is done with its client's rights, not
// procgdb's: what gdb reads through procgdb (a target: sysroot, remote
// get) or writes (remote put, remote delete) is what the client could
// read or write itself.
//
// Linux keeps the ids and capabilities that decide file access per
// thread (the file-system uid and gid, the supplementary groups, the
// capability sets), so a thread of the client's is made for each client
// that uses host I/O: a goroutine locked to its thread for good, which
// takes the client's credentials with the raw system calls (Go's
// syscall.Setgroups would change every thread of procgdb) and then opens,
// stats, reads links and unlinks for the client. Its credentials never go
// back: the thread ends with the goroutine, when the client's session
// ends. The Go runtime makes no new thread from a locked one, so nothing
// else ever runs with them. Descriptors, once open, are read and written
// from the session's goroutine: access was decided at open.
//
// /proc/PID/root (gdb's vFile:setfs, a process's own view of the file
// system) and every /proc/PID file are then allowed as the kernel allows
// them to the client, whose capabilities the thread has (those procgdb
// has as well), and no more.

// clientFiles returns the host I/O of a daemon's client (rsp.Config.Files):
// files made by base, used with the credentials of conn's peer.
func clientFiles(base func() (rsp.FileSystem, error), conn *procdir.Conn) func() (rsp.FileSystem, error) {
	return func() (rsp.FileSystem, error) {
		cred, err := conn.Credentials()
		if err != nil {
			return nil, err
		}
		fs, err := base()
		if err != nil {
			return nil, err
		}
		c, err := newCredFS(fs, cred)
		if err != nil {
			fs.CloseAll()
			return nil, err
		}
		return c, nil
	}
}

// credFS is a client's FileSystem whose calls that name a path run on a
// thread with the client's credentials.
type credFS struct {
	rsp.FileSystem // what works on descriptors: Pread, Pwrite, Fstat, Close
	work           chan func()
	closed         bool
}

func newCredFS(fs rsp.FileSystem, cred procdir.Credentials) (*credFS, error) {
	c := &credFS{FileSystem: fs, work: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		if err := takeCredentials(cred); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for fn := range c.work {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("host I/O with your ids (uid %d): %w", cred.UID, err)
	}
	return c, nil
}

// takeCredentials gives the calling thread, which must stay locked to its
// goroutine, cred's supplementary groups, file-system ids and
// capabilities (those of them procgdb has). A procgdb that may not change
// its ids (not root) serves its own user's clients as itself.
func takeCredentials(cred procdir.Credentials) error {
	gids := make([]int, len(cred.Groups))
	for i, g := range cred.Groups {
		gids[i] = int(g)
	}
	err := unix.Setgroups(gids)
	switch {
	case err == unix.EPERM && cred.UID == uint32(os.Geteuid()):
		// Its own user: ids as they are.
	case err != nil:
		return fmt.Errorf("setgroups: %w", err)
	default:
		unix.SetfsgidRetGid(int(cred.GID))
		unix.SetfsuidRetUid(int(cred.UID))
		// setfsuid and setfsgid say nothing of a failure but return the
		// ids in force: an invalid id changes nothing and tells them.
		if gid, _ := unix.SetfsgidRetGid(-1); gid != int(cred.GID) {
			return fmt.Errorf("setfsgid %d: still %d", cred.GID, gid)
		}
		if uid, _ := unix.SetfsuidRetUid(-1); uid != int(cred.UID) {
			return fmt.Errorf("setfsuid %d: still %d", cred.UID, uid)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for i := range caps {
		keep := uint32(uint64(cred.CapEff) >> (32 * i))
		caps[i].Effective = caps[i].Permitted & keep
		caps[i].Permitted = caps[i].Effective
		caps[i].Inheritable = 0
	}
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// inThread runs fn on c's thread.
func inThread[T any](c *credFS, fn func() (T, error)) (T, error) {
	var v T
	var err error
	done := make(chan struct{})
	c.work <- func() {
		v, err = fn()
		close(done)
	}
	<-done
	return v, err
}

func (c *credFS) Setfs(pid int) error {
	_, err := inThread(c, func() (struct{}, error) { return struct{}{}, c.FileSystem.Setfs(pid) })
	return err
}

func (c *credFS) Open(path string, flags int, mode uint32) (int, error) {
	return inThread(c, func() (int, error) { return c.FileSystem.Open(path, flags, mode) })
}

func (c *credFS) Unlink(path string) error {
	_, err := inThread(c, func() (struct{}, error) { return struct{}{}, c.FileSystem.Unlink(path) })
	return err
}

func (c *credFS) Readlink(path string) (string, error) {
	return inThread(c, func() (string, error) { return c.FileSystem.Readlink(path) })
}

func (c *credFS) Stat(path string) (unix.Stat_t, error) {
	return inThread(c, func() (unix.Stat_t, error) { return c.FileSystem.Stat(path) })
}

func (c *credFS) Lstat(path string) (unix.Stat_t, error) {
	return inThread(c, func() (unix.Stat_t, error) { return c.FileSystem.Lstat(path) })
}

// CloseAll closes the client's files and ends its thread.
func (c *credFS) CloseAll() error {
	err := c.FileSystem.CloseAll()
	if !c.closed {
		c.closed = true
		close(c.work)
	}
	return err
}
