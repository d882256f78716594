package client

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/rsp"
)

// Files on the stub's machine, per the manual's "Host I/O Packets":
// vFile:setfs selects whose file system paths are resolved in, then
// vFile:open, pread, pwrite, close, fstat, stat (lldb's; a stub without it
// gets open, fstat and close), unlink and readlink. Paths and descriptors
// are the stub's; numbers are hex; errors come back as errno numbers.

// FS is the file system of the stub's machine, as process PID sees it
// (its mount namespace and root), or as the stub itself does for PID 0.
// It implements fs.FS, fs.StatFS, fs.ReadFileFS and fs.ReadLinkFS, and
// adds writing. Names are slash-separated paths from the root, without
// the leading slash, as io/fs wants them: "etc/passwd". FS does not list
// directories: the protocol cannot.
type FS struct {
	c   *Client
	pid int
}

// FS returns the file system process pid sees, or the stub's own for 0.
func (c *Client) FS(pid int) *FS {
	return &FS{c: c, pid: pid}
}

// Interfaces FS implements.
var (
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

// fileRequest sends a Host I/O request for f's file system and decodes the
// reply; a failure (result -1) becomes a *fs.PathError for op and name,
// wrapping the errno.
func (f *FS) fileRequest(op, name, req string) (rsp.FileReply, error) {
	c := f.c
	if !c.fsKnown || c.fsPID != f.pid {
		err := f.setfs()
		if err != nil {
			return rsp.FileReply{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
	}
	r, err := c.request(req)
	if err != nil {
		return rsp.FileReply{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	fr, err := rsp.ParseFileReply([]byte(r))
	if err != nil {
		return rsp.FileReply{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if fr.Result < 0 {
		var errno error = fr.Errno
		if fr.Errno == 0 {
			errno = errors.New("the stub's error has no errno")
		}
		return fr, &fs.PathError{Op: op, Path: name, Err: errno}
	}
	return fr, nil
}

// setfs selects f's file system; a stub without setfs has only its own.
func (f *FS) setfs() error {
	c := f.c
	r, err := c.request(fmt.Sprintf("vFile:setfs:%x", f.pid))
	switch {
	case errors.Is(err, ErrUnsupported) && f.pid == 0:
	case err != nil:
		return err
	default:
		fr, err := rsp.ParseFileReply([]byte(r))
		if err != nil {
			return err
		}
		if fr.Result < 0 {
			return fmt.Errorf("setfs %d: %w", f.pid, fr.Errno)
		}
	}
	c.fsPID, c.fsKnown = f.pid, true
	return nil
}

// path returns the stub's path for name, which must be valid for io/fs.
func path(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "/", nil
	}
	return "/" + name, nil
}

// hexPath encodes a path for a request.
func hexPath(p string) string { return hex.EncodeToString([]byte(p)) }

// Open opens the named file for reading.
func (f *FS) Open(name string) (fs.File, error) {
	return f.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens the named file with flags (os.O_RDONLY, O_WRONLY or
// O_RDWR, with O_APPEND, O_CREATE, O_TRUNC, O_EXCL) and, when it creates
// the file, permission bits perm.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (*File, error) {
	p, err := path("open", name)
	if err != nil {
		return nil, err
	}
	req := fmt.Sprintf("vFile:open:%s,%x,%x", hexPath(p), rsp.FileOpenFlags(flag), uint32(perm.Perm()))
	r, err := f.fileRequest("open", name, req)
	if err != nil {
		return nil, err
	}
	return &File{fsys: f, fd: r.Result, name: name}, nil
}

// Create creates or truncates the named file, for writing (mode 0666).
func (f *FS) Create(name string) (*File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// ReadFile reads the whole named file.
func (f *FS) ReadFile(name string) ([]byte, error) {
	file, err := f.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(file)
}

// WriteFile writes data to the named file, creating it with permission
// bits perm if needed and truncating it otherwise.
func (f *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	file, err := f.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = file.Write(data)
	return errors.Join(err, file.Close())
}

// Remove removes the named file (vFile:unlink).
func (f *FS) Remove(name string) error {
	p, err := path("remove", name)
	if err != nil {
		return err
	}
	_, err = f.fileRequest("remove", name, "vFile:unlink:"+hexPath(p))
	return err
}

// ReadLink returns the target of the named symbolic link.
func (f *FS) ReadLink(name string) (string, error) {
	p, err := path("readlink", name)
	if err != nil {
		return "", err
	}
	r, err := f.fileRequest("readlink", name, "vFile:readlink:"+hexPath(p))
	if err != nil {
		return "", err
	}
	return string(r.Data), nil
}

// Lstat returns what Stat returns: the protocol has no lstat, so a
// symbolic link is followed.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	return f.Stat(name)
}

// Stat describes the named file, following symbolic links: with
// vFile:stat, or by opening it where the stub has no vFile:stat.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	p, err := path("stat", name)
	if err != nil {
		return nil, err
	}
	r, err := f.fileRequest("stat", name, "vFile:stat:"+hexPath(p))
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(pe.Err, ErrUnsupported) {
		file, err := f.OpenFile(name, os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		return file.Stat()
	}
	if err != nil {
		return nil, err
	}
	return fileInfo(name, r.Data)
}

// fileInfo decodes a struct stat attachment.
func fileInfo(name string, b []byte) (fs.FileInfo, error) {
	st, err := rsp.ParseFileStat(b)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return &fileStat{name: name, st: st}, nil
}

// fileStat is the fs.FileInfo of a file on the stub's machine.
type fileStat struct {
	name string
	st   unix.Stat_t
}

func (s *fileStat) Name() string       { return pathBase(s.name) }
func (s *fileStat) Size() int64        { return s.st.Size }
func (s *fileStat) ModTime() time.Time { return time.Unix(s.st.Mtim.Sec, 0) }
func (s *fileStat) IsDir() bool        { return s.Mode().IsDir() }
func (s *fileStat) Sys() any           { return &s.st }

// Mode returns the permission bits and, of the file types, the two the
// protocol has: directory and regular file.
func (s *fileStat) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	if s.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		m |= fs.ModeDir
	}
	return m
}

// pathBase returns the last element of an io/fs name.
func pathBase(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// File is an open file on the stub's machine. It implements fs.File,
// io.ReaderAt, io.Writer, io.WriterAt and io.Seeker. Reads and writes at
// its offset are pread and pwrite at an offset the File keeps.
type File struct {
	fsys *FS
	fd   int64
	name string
	off  int64
}

// Read reads up to len(p) bytes at the file's offset and advances it.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.pread(p, f.off)
	f.off += int64(n)
	return n, err
}

// ReadAt reads len(p) bytes at off; fewer only with an error (io.EOF at
// the end of the file).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := f.pread(p[n:], off+int64(n))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pread reads what one request can of p at off: at least one byte, or
// io.EOF.
func (f *File) pread(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	count := min(len(p), max(1, f.fsys.c.packetSize-32), maxChunk)
	r, err := f.fsys.fileRequest("read", f.name, fmt.Sprintf("vFile:pread:%x,%x,%x", f.fd, count, off))
	if err != nil {
		return 0, err
	}
	if r.Result == 0 {
		return 0, io.EOF
	}
	if r.Result != int64(len(r.Data)) || len(r.Data) > len(p) {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fmt.Errorf("pread: %d bytes said, %d sent", r.Result, len(r.Data))}
	}
	return copy(p, r.Data), nil
}

// Write writes p at the file's offset and advances it.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.WriteAt(p, f.off)
	f.off += int64(n)
	return n, err
}

// WriteAt writes p at off.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	c := f.fsys.c
	n := 0
	for n < len(p) {
		hdr := fmt.Sprintf("vFile:pwrite:%x,%x,", f.fd, off+int64(n))
		k := fitEscaped(p[n:], c.packetSize-1-len(hdr))
		r, err := f.fsys.fileRequest("write", f.name, hdr+string(p[n:n+k]))
		if err != nil {
			return n, err
		}
		if r.Result <= 0 || r.Result > int64(k) {
			return n, &fs.PathError{Op: "write", Path: f.name, Err: fmt.Errorf("pwrite of %d bytes wrote %d", k, r.Result)}
		}
		n += int(r.Result)
	}
	return n, nil
}

// Seek sets the offset of the next Read or Write.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		offset += fi.Size()
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

// Stat describes the file (vFile:fstat).
func (f *File) Stat() (fs.FileInfo, error) {
	r, err := f.fsys.fileRequest("stat", f.name, "vFile:fstat:"+strconv.FormatInt(f.fd, 16))
	if err != nil {
		return nil, err
	}
	return fileInfo(f.name, r.Data)
}

// Close closes the file.
func (f *File) Close() error {
	_, err := f.fsys.fileRequest("close", f.name, "vFile:close:"+strconv.FormatInt(f.fd, 16))
	return err
}

// fitEscaped returns how many bytes from the start of p fit in budget
// bytes once escaped: at least one.
func fitEscaped(p []byte, budget int) int {
	k := min(len(p), budget, maxChunk)
	for over := rsp.EscapedLen(p[:k]) - budget; over > 0; over = rsp.EscapedLen(p[:k]) - budget {
		k -= over
	}
	return max(k, 1)
}
