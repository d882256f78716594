//go:build linux

// Package hostio opens, reads and writes files on behalf of a debugger
// client, as gdb's host I/O (vFile) packets ask: the stub's side of
// "remote get", "remote put" and a sysroot of "target:". It knows nothing
// of packets; package rsp turns them into calls of a Files.
//
// A Files is one client's view of the file system:
//
//   - Its file descriptors are its own small numbers, not the stub's: a
//     client can name only files it opened, never the stub's sockets or
//     terminal, and at most Options.MaxOpen of them at once. CloseAll
//     closes them when the client leaves.
//   - Setfs(pid) selects the file system as process pid sees it, through
//     /proc/PID/root: its mount namespace and its root directory, so that a
//     program in a container is debugged with its own files.
//   - Options.Root confines every path to one directory tree: the
//     directory New opens, in the stub's own mount namespace, and that
//     every Files made from it with Dup shares. Paths are the stub's
//     paths and must name something under Root; they are resolved with
//     openat2(2), RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS from that
//     descriptor, so neither "..", nor an absolute symbolic link, nor a
//     relative one that climbs out, nor a /proc magic link (such as
//     /proc/self/root) leads outside. Refused paths get EACCES. Setfs
//     changes nothing then: a process's view of the tree is its own to
//     change (in a mount namespace it owns, it can mount / over Root's
//     path), so it must not decide what the client reaches. What lies in
//     the tree is in it, whatever else it is: a hard link, or a directory
//     mounted there in the stub's namespace, gives access to its file.
//   - Options.ReadOnly refuses writes, creation, truncation and unlinking
//     with EROFS.
//   - Only regular files (and directories, read-only) are opened: a FIFO,
//     a device or a socket gets ENODEV without being opened, so that a
//     client cannot block the stub on a FIFO or trigger a device's open.
//
// Errors are *os.PathError or *os.SyscallError values wrapping a
// unix.Errno, which callers translate (errors.As) to their protocol's
// numbers.
package hostio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultMaxOpen is the number of files a client may hold open at once
// when Options.MaxOpen is zero. gdb keeps every shared library it loads
// through "target:" open, so this is well above a large program's count.
const DefaultMaxOpen = 1024

// maxLink bounds the target of a symbolic link that Readlink returns.
const maxLink = unix.PathMax

// Options configure a Files.
type Options struct {
	// Root, when not empty, confines every path to this directory tree.
	// It must be an existing directory; a relative Root is taken from the
	// current directory when New is called.
	Root string
	// ReadOnly refuses Pwrite, Unlink and opening for writing, creating or
	// truncating, with EROFS.
	ReadOnly bool
	// MaxOpen bounds the number of open files; 0 means DefaultMaxOpen.
	// More opens fail with EMFILE.
	MaxOpen int
}

// Files is one client's access to files. Its methods are not safe for
// concurrent use.
type Files struct {
	opts Options
	// rootPaths are the spellings of Root a path may start with: as
	// configured (made absolute and clean) and with symbolic links
	// resolved, when that differs.
	rootPaths []string
	// hostRoot is an O_PATH descriptor of Root in the stub's own file
	// system, or -1 without confinement.
	hostRoot int

	// dir is the descriptor paths are resolved from: hostRoot, a
	// descriptor for the process Setfs selected (owned: dirOwned), or
	// AT_FDCWD for the stub's own file system without confinement.
	dir      int
	dirOwned bool
	// resolve is openat2's RESOLVE_ flags for paths under dir.
	resolve uint64
	pid     int

	fds    []int // client fd -> host fd, -1 when free
	nopen  int
	closed bool
}

// New returns a Files for one client, with the stub's own file system
// selected. It fails when Options.Root is not a directory that can be
// opened.
func New(opts Options) (*Files, error) {
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = DefaultMaxOpen
	}
	f := &Files{opts: opts, hostRoot: -1, dir: unix.AT_FDCWD}
	if opts.Root != "" {
		abs, err := filepath.Abs(opts.Root)
		if err != nil {
			return nil, fmt.Errorf("hostio: root: %w", err)
		}
		f.rootPaths = []string{abs}
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			f.rootPaths = append(f.rootPaths, real)
		}
		fd, err := retry(func() (int, error) {
			return unix.Open(abs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		})
		if err != nil {
			return nil, fmt.Errorf("hostio: root: %w", &os.PathError{Op: "open", Path: abs, Err: err})
		}
		f.hostRoot = fd
	}
	f.selectHost()
	return f, nil
}

// Dup returns a Files for another client with f's options and, under
// confinement, f's root directory: a duplicate of the descriptor New
// opened, not a new lookup of Root's path, which may name another
// directory by now. The new Files has no open files and the stub's own
// file system selected. Dup only reads f: goroutines may call it at once
// while nothing else uses f.
func (f *Files) Dup() (*Files, error) {
	if f.closed {
		return nil, &os.SyscallError{Syscall: "dup", Err: unix.EBADF}
	}
	d := &Files{opts: f.opts, rootPaths: f.rootPaths, hostRoot: -1, dir: unix.AT_FDCWD}
	if f.hostRoot >= 0 {
		fd, err := unix.FcntlInt(uintptr(f.hostRoot), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, &os.SyscallError{Syscall: "dup", Err: err}
		}
		d.hostRoot = fd
	}
	d.selectHost()
	return d, nil
}

// Root returns the confining directory, absolute, or "" when paths are
// not confined.
func (f *Files) Root() string {
	if len(f.rootPaths) == 0 {
		return ""
	}
	return f.rootPaths[0]
}

// selectHost selects the stub's own file system.
func (f *Files) selectHost() {
	f.dropDir()
	f.pid = 0
	if f.hostRoot >= 0 {
		f.dir, f.resolve = f.hostRoot, beneath
	} else {
		f.dir, f.resolve = unix.AT_FDCWD, 0
	}
}

// dropDir closes the selected process's descriptor, if one is open.
func (f *Files) dropDir() {
	if f.dirOwned {
		unix.Close(f.dir)
	}
	f.dir, f.dirOwned = unix.AT_FDCWD, false
}

// Resolution flags: confined paths stay beneath the root and cross no
// magic link; a process's file system is entered as a chroot, where
// absolute paths and absolute symbolic links start at its root.
const (
	beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS
	inRoot  = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS
)

// Setfs selects the file system paths are resolved in: process pid's
// (its mount namespace and root directory, as /proc/PID/root shows them),
// or the stub's own for pid 0. Under confinement it selects nothing:
// paths stay beneath the root directory the stub opened, whatever pid
// is. On failure the previous selection stays.
func (f *Files) Setfs(pid int) error {
	if f.closed {
		return unix.EBADF
	}
	switch {
	case pid < 0:
		return &os.SyscallError{Syscall: "setfs " + strconv.Itoa(pid), Err: unix.EINVAL}
	case pid == 0 || f.hostRoot >= 0:
		f.selectHost()
		return nil
	case pid == f.pid:
		return nil
	}
	proc := "/proc/" + strconv.Itoa(pid) + "/root"
	root, err := retry(func() (int, error) {
		return unix.Open(proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return &os.PathError{Op: "open", Path: proc, Err: err}
	}
	f.dropDir()
	f.dir, f.dirOwned, f.resolve, f.pid = root, true, inRoot, pid
	return nil
}

// relative returns path as it is resolved from f.dir: unchanged without
// confinement, else relative to Root. It refuses paths with a NUL
// (EINVAL), empty paths (ENOENT) and absolute paths outside Root (EACCES).
func (f *Files) relative(op, path string) (string, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return "", &os.PathError{Op: op, Path: path, Err: unix.EINVAL}
	}
	if path == "" {
		return "", &os.PathError{Op: op, Path: path, Err: unix.ENOENT}
	}
	if f.resolve != beneath || !filepath.IsAbs(path) {
		return path, nil
	}
	for _, root := range f.rootPaths {
		if rest, ok := strings.CutPrefix(path, root); ok && (root == "/" || rest == "" || rest[0] == '/') {
			if rest = strings.TrimLeft(rest, "/"); rest == "" {
				rest = "."
			}
			return rest, nil
		}
	}
	return "", &os.PathError{Op: op, Path: path, Err: unix.EACCES}
}

// openat2 opens path under dir with the resolution flags given, retrying
// when interrupted or when a concurrent rename made the kernel give up
// (EAGAIN). An escape from a confined root (EXDEV) is reported as EACCES.
func openat2(dir int, path string, flags int, mode uint32, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	fd, err := retry(func() (int, error) { return unix.Openat2(dir, path, &how) })
	if err == unix.EXDEV && resolve&unix.RESOLVE_BENEATH != 0 {
		err = unix.EACCES
	}
	return fd, err
}

// retry calls fn until it fails with neither EINTR nor EAGAIN, a bounded
// number of times.
func retry(fn func() (int, error)) (int, error) {
	for i := 0; ; i++ {
		fd, err := fn()
		if (err == unix.EINTR || err == unix.EAGAIN) && i < 100 {
			continue
		}
		return fd, err
	}
}

// openPath opens path O_PATH, resolved as the selected file system and
// confinement say: following a symbolic link in its last element, or,
// with O_NOFOLLOW in flags, opening the link itself.
func (f *Files) openPath(op, path string, flags int) (int, error) {
	rel, err := f.relative(op, path)
	if err != nil {
		return -1, err
	}
	fd, err := openat2(f.dir, rel, unix.O_PATH|flags, 0, f.resolve)
	if err != nil {
		return -1, &os.PathError{Op: op, Path: path, Err: err}
	}
	return fd, nil
}

// parent opens the directory that contains path's last element, O_PATH,
// and returns it with that element. A last element of "", "." or ".." is
// refused with EINVAL: it names no entry of its own directory.
func (f *Files) parent(op, path string) (dir int, base string, err error) {
	rel, err := f.relative(op, path)
	if err != nil {
		return -1, "", err
	}
	dirPath, base := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dirPath, base = rel[:i+1], rel[i+1:]
	}
	if base == "" || base == "." || base == ".." {
		return -1, "", &os.PathError{Op: op, Path: path, Err: unix.EINVAL}
	}
	if dirPath == "" {
		dirPath = "."
	}
	fd, err := openat2(f.dir, dirPath, unix.O_PATH|unix.O_DIRECTORY, 0, f.resolve)
	if err != nil {
		return -1, "", &os.PathError{Op: op, Path: path, Err: err}
	}
	return fd, base, nil
}

// Open flags a client may ask for; others are dropped.
const openFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_CREAT | unix.O_TRUNC | unix.O_EXCL

// Open opens path with host open flags (O_RDONLY, O_WRONLY or O_RDWR, and
// O_APPEND, O_CREAT, O_TRUNC, O_EXCL; others are ignored) and, for a file
// it creates, the permission bits of mode (others are ignored; the stub's
// umask applies). It returns the client's descriptor.
func (f *Files) Open(path string, flags int, mode uint32) (int, error) {
	if f.closed {
		return -1, &os.PathError{Op: "open", Path: path, Err: unix.EBADF}
	}
	flags &= openFlags
	acc := flags & unix.O_ACCMODE
	if acc == unix.O_ACCMODE {
		return -1, &os.PathError{Op: "open", Path: path, Err: unix.EINVAL}
	}
	if f.opts.ReadOnly && (acc != unix.O_RDONLY || flags&(unix.O_CREAT|unix.O_TRUNC|unix.O_APPEND) != 0) {
		return -1, &os.PathError{Op: "open", Path: path, Err: unix.EROFS}
	}
	if f.nopen >= f.opts.MaxOpen {
		return -1, &os.PathError{Op: "open", Path: path, Err: unix.EMFILE}
	}
	rel, err := f.relative("open", path)
	if err != nil {
		return -1, err
	}
	host, err := f.open(rel, flags, mode&0o777)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return f.add(host), nil
}

// open opens rel as Open describes, checking the file's type before it
// is opened for real: it looks the file up O_PATH, checks it, then opens
// that same file again through /proc/self/fd, so that a file swapped in
// between cannot be opened instead.
func (f *Files) open(rel string, flags int, mode uint32) (int, error) {
	const extra = unix.O_NOCTTY | unix.O_NONBLOCK
	p, err := openat2(f.dir, rel, unix.O_PATH, 0, f.resolve)
	if err == unix.ENOENT && flags&unix.O_CREAT != 0 {
		// Create it. O_NONBLOCK keeps a FIFO that appeared meanwhile
		// from blocking; the check below refuses it.
		fd, err := openat2(f.dir, rel, flags|extra, mode, f.resolve)
		if err != nil {
			return -1, err
		}
		if err := checkType(fd, flags); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	if err != nil {
		return -1, err
	}
	defer unix.Close(p)
	if flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
		return -1, unix.EEXIST
	}
	if err := checkType(p, flags); err != nil {
		return -1, err
	}
	return retry(func() (int, error) {
		return unix.Open("/proc/self/fd/"+strconv.Itoa(p), flags&^(unix.O_CREAT|unix.O_EXCL)|extra|unix.O_CLOEXEC, 0)
	})
}

// checkType allows regular files, and directories when read-only.
func checkType(fd, flags int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil
	case unix.S_IFDIR:
		if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
			return unix.EISDIR
		}
		return nil
	}
	return unix.ENODEV
}

// add records host descriptor h and returns the client's number for it,
// the lowest one free.
func (f *Files) add(h int) int {
	f.nopen++
	for i, fd := range f.fds {
		if fd < 0 {
			f.fds[i] = h
			return i
		}
	}
	f.fds = append(f.fds, h)
	return len(f.fds) - 1
}

// host returns the host descriptor of client descriptor fd.
func (f *Files) host(op string, fd int) (int, error) {
	if fd < 0 || fd >= len(f.fds) || f.fds[fd] < 0 {
		return -1, &os.SyscallError{Syscall: op + " fd " + strconv.Itoa(fd), Err: unix.EBADF}
	}
	return f.fds[fd], nil
}

// Close closes the client's descriptor fd.
func (f *Files) Close(fd int) error {
	h, err := f.host("close", fd)
	if err != nil {
		return err
	}
	f.fds[fd] = -1
	f.nopen--
	if err := unix.Close(h); err != nil {
		return &os.SyscallError{Syscall: "close", Err: err}
	}
	return nil
}

// Pread reads up to len(dst) bytes at offset from descriptor fd and
// returns how many it read: fewer at the end of the file, 0 past it.
func (f *Files) Pread(fd int, dst []byte, offset int64) (int, error) {
	h, err := f.host("pread", fd)
	if err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, &os.SyscallError{Syscall: "pread", Err: unix.EINVAL}
	}
	n := 0
	for n < len(dst) {
		m, err := unix.Pread(h, dst[n:], offset+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if n > 0 {
				break
			}
			return 0, &os.SyscallError{Syscall: "pread", Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// Pwrite writes src at offset to descriptor fd and returns how many bytes
// it wrote.
func (f *Files) Pwrite(fd int, src []byte, offset int64) (int, error) {
	h, err := f.host("pwrite", fd)
	if err != nil {
		return 0, err
	}
	if f.opts.ReadOnly {
		return 0, &os.SyscallError{Syscall: "pwrite", Err: unix.EROFS}
	}
	if offset < 0 {
		return 0, &os.SyscallError{Syscall: "pwrite", Err: unix.EINVAL}
	}
	n := 0
	for n < len(src) {
		m, err := unix.Pwrite(h, src[n:], offset+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if n > 0 {
				break
			}
			return 0, &os.SyscallError{Syscall: "pwrite", Err: err}
		}
		n += m
	}
	return n, nil
}

// Fstat returns the status of the file open as descriptor fd.
func (f *Files) Fstat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	h, err := f.host("fstat", fd)
	if err != nil {
		return st, err
	}
	if err := unix.Fstat(h, &st); err != nil {
		return st, &os.SyscallError{Syscall: "fstat", Err: err}
	}
	return st, nil
}

// Stat returns the status of the file path names, following symbolic
// links.
func (f *Files) Stat(path string) (unix.Stat_t, error) {
	return f.stat("stat", path, 0)
}

// Lstat is Stat, except that a symbolic link in the last element of path
// is not followed: its own status is returned. Links before it are
// followed, within the confinement.
func (f *Files) Lstat(path string) (unix.Stat_t, error) {
	return f.stat("lstat", path, unix.O_NOFOLLOW)
}

// stat opens path as openPath does with flags, and returns the status
// of what it opened: the file, or, with O_NOFOLLOW, a link itself.
func (f *Files) stat(op, path string, flags int) (unix.Stat_t, error) {
	var st unix.Stat_t
	if f.closed {
		return st, &os.PathError{Op: op, Path: path, Err: unix.EBADF}
	}
	fd, err := f.openPath(op, path, flags)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return st, &os.PathError{Op: op, Path: path, Err: err}
	}
	return st, nil
}

// Unlink removes the file path names (not a directory). A symbolic link
// is removed itself, not what it points to.
func (f *Files) Unlink(path string) error {
	if f.closed {
		return &os.PathError{Op: "unlink", Path: path, Err: unix.EBADF}
	}
	if f.opts.ReadOnly {
		return &os.PathError{Op: "unlink", Path: path, Err: unix.EROFS}
	}
	dir, base, err := f.parent("unlink", path)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	if err := unix.Unlinkat(dir, base, 0); err != nil {
		return &os.PathError{Op: "unlink", Path: path, Err: err}
	}
	return nil
}

// Readlink returns the target of the symbolic link path names, as it is
// written in the link.
func (f *Files) Readlink(path string) (string, error) {
	if f.closed {
		return "", &os.PathError{Op: "readlink", Path: path, Err: unix.EBADF}
	}
	dir, base, err := f.parent("readlink", path)
	if err != nil {
		return "", err
	}
	defer unix.Close(dir)
	buf := make([]byte, maxLink)
	n, err := unix.Readlinkat(dir, base, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: path, Err: err}
	}
	if n == len(buf) {
		return "", &os.PathError{Op: "readlink", Path: path, Err: unix.ENAMETOOLONG}
	}
	return string(buf[:n]), nil
}

// OpenCount reports how many descriptors the client has open.
func (f *Files) OpenCount() int { return f.nopen }

// CloseAll closes every descriptor the client opened and the descriptors
// of the selected file system and root. The Files is unusable afterwards:
// every call fails with EBADF.
func (f *Files) CloseAll() error {
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for i, h := range f.fds {
		if h >= 0 {
			if err := unix.Close(h); err != nil {
				errs = append(errs, &os.SyscallError{Syscall: "close", Err: err})
			}
			f.fds[i] = -1
		}
	}
	f.nopen = 0
	f.dropDir()
	if f.hostRoot >= 0 {
		unix.Close(f.hostRoot)
		f.hostRoot = -1
	}
	return errors.Join(errs...)
}
