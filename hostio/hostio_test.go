//go:build linux

package hostio

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newFiles returns a Files for the test, closed when it ends.
func newFiles(t *testing.T, opts Options) *Files {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.CloseAll(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// wantErrno fails the test unless err wraps errno.
func wantErrno(t *testing.T, what string, err error, errno unix.Errno) {
	t.Helper()
	if !errors.Is(err, errno) {
		t.Errorf("%s: got error %v, want %v", what, err, errno)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readAll reads path through f.
func readAll(t *testing.T, f *Files, path string) (string, error) {
	t.Helper()
	fd, err := f.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close(fd)
	var out []byte
	buf := make([]byte, 7)
	for off := int64(0); ; {
		n, err := f.Pread(fd, buf, off)
		if err != nil {
			return "", err
		}
		if n == 0 {
			return string(out), nil
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
}

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	f := newFiles(t, Options{})
	p := filepath.Join(dir, "f")

	fd, err := f.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o7640)
	if err != nil {
		t.Fatal(err)
	}
	if fd != 0 {
		t.Errorf("first descriptor %d, want 0", fd)
	}
	if n, err := f.Pwrite(fd, []byte("hello, world"), 0); n != 12 || err != nil {
		t.Fatalf("Pwrite = %d, %v", n, err)
	}
	if n, err := f.Pwrite(fd, []byte("W"), 7); n != 1 || err != nil {
		t.Fatalf("Pwrite = %d, %v", n, err)
	}
	st, err := f.Fstat(fd)
	if err != nil || st.Size != 12 || st.Mode != unix.S_IFREG|0o640&^uint32(umask()) {
		t.Errorf("Fstat = size %d mode %#o, %v; want 12, %#o", st.Size, st.Mode, err, unix.S_IFREG|0o640&^umask())
	}
	if err := f.Close(fd); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "Close twice", f.Close(fd), unix.EBADF)
	if got, err := readAll(t, f, p); got != "hello, World" || err != nil {
		t.Errorf("read back %q, %v", got, err)
	}

	// Appending, and a read at and past the end.
	fd, err = f.Open(p, unix.O_RDWR|unix.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Pwrite(fd, []byte("!"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if n, err := f.Pread(fd, buf, 0); string(buf[:n]) != "hello, World!" || err != nil {
		t.Errorf("Pread = %q, %v", buf[:n], err)
	}
	if n, err := f.Pread(fd, buf, 13); n != 0 || err != nil {
		t.Errorf("Pread at the end = %d, %v", n, err)
	}
	if n, err := f.Pread(fd, buf, 1<<40); n != 0 || err != nil {
		t.Errorf("Pread past the end = %d, %v", n, err)
	}
	if n, err := f.Pread(fd, buf[:0], 0); n != 0 || err != nil {
		t.Errorf("Pread of 0 bytes = %d, %v", n, err)
	}
	_, err = f.Pread(fd, buf, -1)
	wantErrno(t, "Pread at -1", err, unix.EINVAL)
	_, err = f.Pwrite(fd, buf, -1)
	wantErrno(t, "Pwrite at -1", err, unix.EINVAL)

	st, err = f.Stat(p)
	if err != nil || st.Size != 13 {
		t.Errorf("Stat = size %d, %v", st.Size, err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if target, err := f.Readlink(filepath.Join(dir, "link")); target != "f" || err != nil {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	if st, err := f.Stat(filepath.Join(dir, "link")); err != nil || st.Size != 13 {
		t.Errorf("Stat through a link = size %d, %v", st.Size, err)
	}
	if st, err := f.Lstat(filepath.Join(dir, "link")); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Size != 1 {
		t.Errorf("Lstat of a link = mode %#o size %d, %v; want a link of 1 byte", st.Mode, st.Size, err)
	}
	if st, err := f.Lstat(p); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 13 {
		t.Errorf("Lstat of a file = mode %#o size %d, %v", st.Mode, st.Size, err)
	}
	if st, err := f.Lstat(dir + "/."); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("Lstat of a directory's . = mode %#o, %v", st.Mode, err)
	}
	_, err = f.Readlink(p)
	wantErrno(t, "Readlink of a file", err, unix.EINVAL)

	// Unlinking an open file: reads go on, the name is gone.
	if err := f.Unlink(p); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Pread(fd, buf, 0); n != 13 || err != nil {
		t.Errorf("Pread after unlink = %d, %v", n, err)
	}
	wantErrno(t, "Unlink twice", f.Unlink(p), unix.ENOENT)
	_, err = f.Stat(p)
	wantErrno(t, "Stat after unlink", err, unix.ENOENT)
	_, err = f.Lstat(p)
	wantErrno(t, "Lstat after unlink", err, unix.ENOENT)
	_, err = f.Open(p, unix.O_RDONLY, 0)
	wantErrno(t, "Open after unlink", err, unix.ENOENT)
	if err := f.Unlink(filepath.Join(dir, "link")); err != nil {
		t.Errorf("Unlink of a dangling link: %v", err)
	}
}

func umask() uint32 {
	m := unix.Umask(0)
	unix.Umask(m)
	return uint32(m)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	f := newFiles(t, Options{MaxOpen: 3})
	p := filepath.Join(dir, "f")
	writeFile(t, p, "x")

	tests := []struct {
		name  string
		path  string
		flags int
		want  unix.Errno
	}{
		{"NUL", p + "\x00/etc/passwd", unix.O_RDONLY, unix.EINVAL},
		{"empty", "", unix.O_RDONLY, unix.ENOENT},
		{"missing", filepath.Join(dir, "missing"), unix.O_RDONLY, unix.ENOENT},
		{"access mode 3", p, unix.O_ACCMODE, unix.EINVAL},
		{"exclusive", p, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, unix.EEXIST},
		{"directory for writing", dir, unix.O_WRONLY, unix.EISDIR},
		{"directory truncated", dir, unix.O_RDONLY | unix.O_TRUNC, unix.EISDIR},
		{"not a directory", p + "/x", unix.O_RDONLY, unix.ENOTDIR},
		{"too long", "/" + strings.Repeat("a", 5000), unix.O_RDONLY, unix.ENAMETOOLONG},
		{"device", "/dev/null", unix.O_RDWR, unix.ENODEV},
		{"device, creating", "/dev/zero", unix.O_RDWR | unix.O_CREAT, unix.ENODEV},
		{"terminal", "/dev/tty", unix.O_RDWR, unix.ENODEV},
	}
	for _, tt := range tests {
		fd, err := f.Open(tt.path, tt.flags, 0o644)
		if err == nil {
			f.Close(fd)
		}
		wantErrno(t, tt.name, err, tt.want)
	}

	// A FIFO is refused without being opened: opening one for reading
	// would block until a writer came.
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.Open(fifo, unix.O_RDONLY, 0)
		done <- err
	}()
	select {
	case err := <-done:
		wantErrno(t, "FIFO", err, unix.ENODEV)
	case <-time.After(10 * time.Second):
		t.Fatal("Open of a FIFO blocked")
	}
	sock := filepath.Join(dir, "sock")
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Open(sock, unix.O_RDONLY, 0)
	wantErrno(t, "socket", err, unix.ENODEV)

	// A directory may be opened for reading (and fstat); reading it fails.
	fd, err := f.Open(dir, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("Open of a directory for reading: %v", err)
	}
	if st, err := f.Fstat(fd); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("Fstat of a directory: %#o, %v", st.Mode, err)
	}
	_, err = f.Pread(fd, make([]byte, 10), 0)
	wantErrno(t, "Pread of a directory", err, unix.EISDIR)
	f.Close(fd)

	// At most MaxOpen descriptors.
	var fds []int
	for i := range 3 {
		fd, err := f.Open(p, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		fds = append(fds, fd)
	}
	_, err = f.Open(p, unix.O_RDONLY, 0)
	wantErrno(t, "open beyond MaxOpen", err, unix.EMFILE)
	if err := f.Close(fds[1]); err != nil {
		t.Fatal(err)
	}
	if fd, err := f.Open(p, unix.O_RDONLY, 0); fd != fds[1] || err != nil {
		t.Errorf("open after a close = %d, %v; want the freed %d", fd, err, fds[1])
	}

	// Bad descriptors.
	for _, fd := range []int{-1, 3, 99, 1 << 30} {
		_, err := f.Pread(fd, make([]byte, 1), 0)
		wantErrno(t, "Pread of a bad fd", err, unix.EBADF)
		_, err = f.Pwrite(fd, []byte("x"), 0)
		wantErrno(t, "Pwrite of a bad fd", err, unix.EBADF)
		_, err = f.Fstat(fd)
		wantErrno(t, "Fstat of a bad fd", err, unix.EBADF)
		wantErrno(t, "Close of a bad fd", f.Close(fd), unix.EBADF)
	}
	// A descriptor open for reading cannot be written.
	_, err = f.Pwrite(fds[0], []byte("x"), 0)
	wantErrno(t, "Pwrite of a read-only fd", err, unix.EBADF)

	for _, path := range []string{"", p + "\x00", dir + "/", dir + "/.", dir + "/.."} {
		wantErrno(t, "Unlink "+path, f.Unlink(path), map[bool]unix.Errno{true: unix.ENOENT, false: unix.EINVAL}[path == ""])
	}
	wantErrno(t, "Unlink of a directory", f.Unlink(filepath.Join(dir)), unix.EISDIR)
	_, err = f.Readlink(p + "\x00")
	wantErrno(t, "Readlink with NUL", err, unix.EINVAL)
	_, err = f.Stat(p + "\x00")
	wantErrno(t, "Stat with NUL", err, unix.EINVAL)
}

// TestCloseAll: every descriptor is closed, in the process too, and the
// Files refuses further use.
func TestCloseAll(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	writeFile(t, p, "x")
	before := openFDs(t)
	f, err := New(Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := f.Open(p, unix.O_RDONLY, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Setfs(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if f.OpenCount() != 5 {
		t.Errorf("OpenCount = %d, want 5", f.OpenCount())
	}
	if err := f.CloseAll(); err != nil {
		t.Fatal(err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open after CloseAll, %d before New", after, before)
	}
	_, err = f.Open(p, unix.O_RDONLY, 0)
	wantErrno(t, "Open after CloseAll", err, unix.EBADF)
	_, err = f.Pread(0, make([]byte, 1), 0)
	wantErrno(t, "Pread after CloseAll", err, unix.EBADF)
	wantErrno(t, "Setfs after CloseAll", f.Setfs(0), unix.EBADF)
	if err := f.CloseAll(); err != nil {
		t.Errorf("CloseAll twice: %v", err)
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// confined builds a tree to confine a Files to:
//
//	base/secret                     outside the root
//	base/root/file                  "inside"
//	base/root/sub/file2             "inside too"
//	base/root/sub/up -> ../file     relative, stays inside
//	base/root/abs-in -> base/root/file   absolute, pointing inside
//	base/root/abs-out -> base/secret     absolute, pointing outside
//	base/root/rel-out -> ../secret
//	base/root/sub/deep-out -> ../../secret
//	base/root/chain -> sub/rel-up, sub/rel-up -> ../..   (climbs out in two steps)
//	base/root/loop1 <-> loop2
//	base/root/proc -> /proc/self/root
//	base/root/dirlink -> sub
func confined(t *testing.T) (base, root string) {
	t.Helper()
	base = t.TempDir()
	root = filepath.Join(base, "root")
	for _, d := range []string{root, filepath.Join(root, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(base, "secret"), "secret")
	writeFile(t, filepath.Join(root, "file"), "inside")
	writeFile(t, filepath.Join(root, "sub", "file2"), "inside too")
	links := map[string]string{
		"sub/up":       "../file",
		"abs-in":       filepath.Join(root, "file"),
		"abs-out":      filepath.Join(base, "secret"),
		"rel-out":      "../secret",
		"sub/deep-out": "../../secret",
		"chain":        "sub/rel-up",
		"sub/rel-up":   "../..",
		"loop1":        "loop2",
		"loop2":        "loop1",
		"proc":         "/proc/self/root",
		"dirlink":      "sub",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return base, root
}

func TestConfinement(t *testing.T) {
	base, root := confined(t)
	f := newFiles(t, Options{Root: root})
	if f.Root() != root {
		t.Errorf("Root() = %q, want %q", f.Root(), root)
	}

	allowed := map[string]string{
		root + "/file":                 "inside",
		root + "//file":                "inside",
		root + "/sub/file2":            "inside too",
		root + "/sub/../file":          "inside", // ".." that stays inside
		root + "/sub/up":               "inside", // relative link that stays inside
		root + "/dirlink/file2":        "inside too",
		root + "/dirlink/../file":      "inside",
		"file":                         "inside", // relative paths start at the root
		"sub/file2":                    "inside too",
		"./sub/./file2":                "inside too",
		root + "/sub/../sub/../file":   "inside",
		root + "/./sub/./../sub/file2": "inside too",
	}
	for path, want := range allowed {
		if got, err := readAll(t, f, path); got != want || err != nil {
			t.Errorf("read %q = %q, %v; want %q", path, got, err, want)
		}
	}

	escapes := map[string]unix.Errno{
		base + "/secret":                     unix.EACCES, // outside, plainly
		"/etc/passwd":                        unix.EACCES,
		root + "x/secret":                    unix.EACCES, // a sibling sharing the prefix
		root + "/../secret":                  unix.EACCES,
		root + "/sub/../../secret":           unix.EACCES,
		"../secret":                          unix.EACCES,
		"sub/../../secret":                   unix.EACCES,
		root + "/abs-in":                     unix.EACCES, // absolute links are refused
		root + "/abs-out":                    unix.EACCES,
		root + "/rel-out":                    unix.EACCES,
		root + "/sub/deep-out":               unix.EACCES,
		root + "/chain/secret":               unix.EACCES,
		root + "/proc/etc/passwd":            unix.EACCES,
		root + "/loop1":                      unix.ELOOP,
		root + "/dirlink/../../secret":       unix.EACCES,
		"/proc/self/root" + base + "/secret": unix.EACCES,
		root + "/file\x00/../../secret":      unix.EINVAL,
	}
	for path, want := range escapes {
		got, err := readAll(t, f, path)
		if err == nil {
			t.Errorf("read %q = %q, want %v", path, got, want)
			continue
		}
		wantErrno(t, "read "+path, err, want)
		_, err = f.Stat(path)
		wantErrno(t, "stat "+path, err, want)
	}

	// Creating through an escaping link or path is refused too, and
	// creates nothing.
	for _, path := range []string{root + "/rel-out", root + "/../new", root + "/chain/new", "/tmp/new-" + filepath.Base(base)} {
		fd, err := f.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o600)
		if err == nil {
			f.Close(fd)
			t.Errorf("create %q succeeded", path)
		}
		wantErrno(t, "create "+path, err, unix.EACCES)
	}
	if got, _ := os.ReadFile(filepath.Join(base, "secret")); string(got) != "secret" {
		t.Errorf("secret changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(base, "new")); err == nil {
		t.Error("a file was created outside the root")
	}

	// Readlink and Unlink act on the link itself, which is inside: the
	// text of a link is not an escape, nor is removing it.
	if target, err := f.Readlink(root + "/abs-out"); target != filepath.Join(base, "secret") || err != nil {
		t.Errorf("Readlink abs-out = %q, %v", target, err)
	}
	_, err := f.Readlink(root + "/chain/secret")
	wantErrno(t, "Readlink through an escaping link", err, unix.EACCES)
	_, err = f.Readlink(root + "/../root/abs-out")
	wantErrno(t, "Readlink with ..", err, unix.EACCES)

	// Lstat too: of a link inside, whatever it points to; never of
	// something a path leads to outside.
	for _, link := range []string{"abs-out", "rel-out", "sub/deep-out", "proc", "loop1"} {
		if st, err := f.Lstat(root + "/" + link); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
			t.Errorf("Lstat %s = mode %#o, %v; want the link", link, st.Mode, err)
		}
	}
	for _, path := range []string{base + "/secret", root + "/../secret", root + "/chain/secret", root + "/dirlink/../../secret", "/proc/self/root" + base + "/secret", root + "/rel-out/x"} {
		_, err := f.Lstat(path)
		wantErrno(t, "Lstat "+path, err, unix.EACCES)
	}
	wantErrno(t, "Unlink outside", f.Unlink(base+"/secret"), unix.EACCES)
	wantErrno(t, "Unlink with ..", f.Unlink(root+"/../secret"), unix.EACCES)
	wantErrno(t, "Unlink through a link", f.Unlink(root+"/chain/secret"), unix.EACCES)
	wantErrno(t, "Unlink of the root", f.Unlink(root), unix.EINVAL)
	if err := f.Unlink(root + "/rel-out"); err != nil {
		t.Errorf("Unlink of a link inside: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "secret")); err != nil {
		t.Errorf("the link's target went with it: %v", err)
	}

	// Writing inside works.
	fd, err := f.Open(root+"/sub/new", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Pwrite(fd, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close(fd)
	if got, _ := os.ReadFile(filepath.Join(root, "sub", "new")); string(got) != "new" {
		t.Errorf("created file holds %q", got)
	}
}

// TestConfinementRootSpellings: a root reached through a symbolic link
// may be named either way; a root of "/" confines nothing but magic links.
func TestConfinementRootSpellings(t *testing.T) {
	base, root := confined(t)
	alias := filepath.Join(base, "alias")
	if err := os.Symlink("root", alias); err != nil {
		t.Fatal(err)
	}
	f := newFiles(t, Options{Root: alias})
	for _, p := range []string{alias + "/file", root + "/file"} {
		if got, err := readAll(t, f, p); got != "inside" || err != nil {
			t.Errorf("read %q = %q, %v", p, got, err)
		}
	}
	_, err := readAll(t, f, base+"/secret")
	wantErrno(t, "read outside", err, unix.EACCES)

	slash := newFiles(t, Options{Root: "/"})
	if got, err := readAll(t, slash, base+"/secret"); got != "secret" || err != nil {
		t.Errorf("read under / = %q, %v", got, err)
	}
	_, err = readAll(t, slash, "/proc/self/root"+base+"/secret")
	wantErrno(t, "read through /proc/self/root", err, unix.ELOOP)

	// Confined to /proc/self, its magic links lead nowhere.
	procSelf := newFiles(t, Options{Root: "/proc/self"})
	for _, p := range []string{"/proc/self/root/etc/passwd", "/proc/self/cwd/" + base, "/proc/self/exe", "/proc/self/fd/0"} {
		_, err := readAll(t, procSelf, p)
		if err == nil {
			t.Errorf("read %q under /proc/self succeeded", p)
		}
	}

	if _, err := New(Options{Root: filepath.Join(base, "secret")}); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("New with a file as root: %v, want ENOTDIR", err)
	}
	if _, err := New(Options{Root: filepath.Join(base, "missing")}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("New with a missing root: %v, want ENOENT", err)
	}
}

// TestDup: a Files made with Dup is confined to the directory the first
// one opened, even once Root's path names another directory, and each has
// its own descriptors.
func TestDup(t *testing.T) {
	base, root := confined(t)
	f := newFiles(t, Options{Root: root, ReadOnly: true})
	moved := filepath.Join(base, "moved")
	if err := os.Rename(root, moved); err != nil {
		t.Fatal(err)
	}
	// Root's path now names another directory.
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "file"), "impostor")
	d, err := f.Dup()
	if err != nil {
		t.Fatal(err)
	}
	if d.Root() != f.Root() {
		t.Errorf("Dup's Root() = %q, want %q", d.Root(), f.Root())
	}
	fd, err := f.Open(root+"/file", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, d, root+"/file"); got != "inside" || err != nil {
		t.Errorf("read through the Dup = %q, %v; want %q", got, err, "inside")
	}
	_, err = d.Open(root+"/file", unix.O_WRONLY, 0)
	wantErrno(t, "write through a read-only Dup", err, unix.EROFS)
	if err := d.CloseAll(); err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, d, root+"/file")
	wantErrno(t, "read after CloseAll", err, unix.EBADF)
	// The first one is unchanged: its file and its root.
	if err := f.Close(fd); err != nil {
		t.Errorf("close the first one's file: %v", err)
	}
	if got, err := readAll(t, f, root+"/file"); got != "inside" || err != nil {
		t.Errorf("read through the first one after the Dup closed = %q, %v", got, err)
	}
	if err := f.CloseAll(); err != nil {
		t.Fatal(err)
	}
	_, err = f.Dup()
	wantErrno(t, "Dup after CloseAll", err, unix.EBADF)
}

// TestConfinementHardLink: confinement is by path, as README says: a hard
// link placed in the tree gives access to its file, wherever else the
// file is linked.
func TestConfinementHardLink(t *testing.T) {
	base, root := confined(t)
	if err := os.Link(filepath.Join(base, "secret"), filepath.Join(root, "hard")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	f := newFiles(t, Options{Root: root})
	if got, err := readAll(t, f, root+"/hard"); got != "secret" || err != nil {
		t.Errorf("read a hard link in the tree = %q, %v", got, err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	writeFile(t, p, "data")
	f := newFiles(t, Options{ReadOnly: true})
	for _, flags := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_CREAT, unix.O_RDONLY | unix.O_TRUNC, unix.O_RDONLY | unix.O_APPEND} {
		_, err := f.Open(p, flags, 0o644)
		wantErrno(t, "open read-only", err, unix.EROFS)
	}
	_, err := f.Open(filepath.Join(dir, "new"), unix.O_WRONLY|unix.O_CREAT, 0o644)
	wantErrno(t, "create read-only", err, unix.EROFS)
	wantErrno(t, "unlink read-only", f.Unlink(p), unix.EROFS)
	fd, err := f.Open(p, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Pwrite(fd, []byte("x"), 0)
	wantErrno(t, "pwrite read-only", err, unix.EROFS)
	if got, err := readAll(t, f, p); got != "data" || err != nil {
		t.Errorf("read = %q, %v", got, err)
	}
	if got, _ := os.ReadFile(p); string(got) != "data" {
		t.Errorf("file changed to %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("a file was created")
	}
}

// TestSetfs selects the file system of a process that sees another root:
// a copy of this test binary, chrooted into a directory. It needs
// CAP_SYS_CHROOT and a static test binary, and is skipped without them.
func TestSetfs(t *testing.T) {
	f := newFiles(t, Options{})
	wantErrno(t, "Setfs(-1)", f.Setfs(-1), unix.EINVAL)
	wantErrno(t, "Setfs of no process", f.Setfs(1<<30), unix.ENOENT)

	// Our own process sees what we see.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), "mine")
	if err := f.Setfs(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, f, filepath.Join(dir, "f")); got != "mine" || err != nil {
		t.Errorf("read through Setfs(self) = %q, %v", got, err)
	}

	pid, jail := startJailed(t)
	writeFile(t, filepath.Join(jail, "marker"), "jailed")
	if err := os.Symlink("/marker", filepath.Join(jail, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := f.Setfs(pid); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/marker", "marker", "/abs", "/../../marker", "/./marker"} {
		if got, err := readAll(t, f, p); got != "jailed" || err != nil {
			t.Errorf("read %q in the process's file system = %q, %v; want %q", p, got, err, "jailed")
		}
	}
	if target, err := f.Readlink("/abs"); target != "/marker" || err != nil {
		t.Errorf("Readlink /abs = %q, %v", target, err)
	}
	if st, err := f.Stat("/abs"); err != nil || st.Size != 6 {
		t.Errorf("Stat /abs = size %d, %v", st.Size, err)
	}
	_, err := readAll(t, f, filepath.Join(dir, "f"))
	wantErrno(t, "read a host path in the process's file system", err, unix.ENOENT)
	fd, err := f.Open("/created", unix.O_WRONLY|unix.O_CREAT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close(fd)
	if _, err := os.Stat(filepath.Join(jail, "created")); err != nil {
		t.Errorf("file created in the process's root: %v", err)
	}
	if err := f.Unlink("/created"); err != nil {
		t.Error(err)
	}

	// Back to our own.
	if err := f.Setfs(0); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, f, filepath.Join(dir, "f")); got != "mine" || err != nil {
		t.Errorf("read after Setfs(0) = %q, %v", got, err)
	}
	_, err = readAll(t, f, "/marker")
	wantErrno(t, "read /marker in our file system", err, unix.ENOENT)

	// Confined: the root is the directory this process opened, whatever
	// process the client names. The same path exists in the jail, with
	// other contents, which the client must not reach: a process decides
	// what its own view of the path holds.
	srv := t.TempDir()
	writeFile(t, filepath.Join(srv, "data"), "host")
	if err := os.MkdirAll(filepath.Join(jail, srv), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(jail, srv, "data"), "served")
	c := newFiles(t, Options{Root: srv})
	for _, sel := range []int{0, pid, 0} {
		if err := c.Setfs(sel); err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t, c, srv+"/data"); got != "host" || err != nil {
			t.Errorf("read confined after Setfs(%d) = %q, %v; want %q", sel, got, err, "host")
		}
		_, err = readAll(t, c, "/marker")
		wantErrno(t, fmt.Sprintf("read outside the root after Setfs(%d)", sel), err, unix.EACCES)
		_, err = readAll(t, c, srv+"/../../../marker")
		wantErrno(t, fmt.Sprintf("escape the root after Setfs(%d)", sel), err, unix.EACCES)
	}
}

// jailEnv marks the copy of the test binary that TestSetfs chroots: it
// only sleeps.
const jailEnv = "HOSTIO_TEST_JAILED"

func TestMain(m *testing.M) {
	if os.Getenv(jailEnv) != "" {
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startJailed starts a copy of the test binary chrooted into a new
// directory and returns its pid and that directory.
func startJailed(t *testing.T) (int, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if isDynamic(t, self) {
		t.Skip("the test binary is dynamically linked and cannot run in an empty chroot")
	}
	jail := t.TempDir()
	exe, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jail, "jailed"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/jailed")
	cmd.Env = []string{jailEnv + "=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: jail}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("chroot: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid, jail
}

// isDynamic reports whether the ELF file at path has a program
// interpreter.
func isDynamic(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b[:min(len(b), 4096)], []byte("/ld-linux"))
}
