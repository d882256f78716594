package rsp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeFS is an in-memory FileSystem: files by path, symbolic links, and a
// descriptor table. It records the calls it gets.
type fakeFS struct {
	mu       sync.Mutex
	files    map[string][]byte
	links    map[string]string
	fds      map[int]string
	pid      int
	calls    []string
	closed   bool
	readOnly bool
}

func newFakeFS() *fakeFS {
	return &fakeFS{
		files: map[string][]byte{"/bin/prog": []byte("\x7fELF$#}*\x00data")},
		links: map[string]string{"/lib/link": "/lib/target.so"},
		fds:   map[int]string{},
	}
}

func (f *fakeFS) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeFS) Setfs(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Setfs(%d)", pid)
	f.pid = pid
	return nil
}

func (f *fakeFS) Open(path string, flags int, mode uint32) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Open(%q, %#x, %#o)", path, flags, mode)
	if strings.IndexByte(path, 0) >= 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return -1, unix.EINVAL
	}
	if f.readOnly && flags&(unix.O_ACCMODE|unix.O_CREAT|unix.O_TRUNC) != 0 {
		return -1, unix.EROFS
	}
	if _, ok := f.files[path]; !ok {
		if flags&unix.O_CREAT == 0 {
			return -1, &fakePathError{path, unix.ENOENT}
		}
		f.files[path] = nil
	} else if flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
		return -1, unix.EEXIST
	}
	if flags&unix.O_TRUNC != 0 {
		f.files[path] = nil
	}
	fd := 3 // the lowest number free
	for f.fds[fd] != "" {
		fd++
	}
	f.fds[fd] = path
	return fd, nil
}

// fakePathError wraps an errno, as hostio's errors do.
type fakePathError struct {
	path string
	err  unix.Errno
}

func (e *fakePathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fakePathError) Unwrap() error { return e.err }

func (f *fakeFS) Close(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Close(%d)", fd)
	if _, ok := f.fds[fd]; !ok {
		return unix.EBADF
	}
	delete(f.fds, fd)
	return nil
}

func (f *fakeFS) Pread(fd int, dst []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Pread(%d, %d, %d)", fd, len(dst), off)
	p, ok := f.fds[fd]
	if !ok {
		return 0, unix.EBADF
	}
	data := f.files[p]
	if off >= int64(len(data)) {
		return 0, nil
	}
	return copy(dst, data[off:]), nil
}

func (f *fakeFS) Pwrite(fd int, src []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Pwrite(%d, %d, %d)", fd, len(src), off)
	p, ok := f.fds[fd]
	if !ok {
		return 0, unix.EBADF
	}
	if f.readOnly {
		return 0, unix.EROFS
	}
	data := f.files[p]
	if end := off + int64(len(src)); end > int64(len(data)) {
		data = append(data, make([]byte, end-int64(len(data)))...)
	}
	copy(data[off:], src)
	f.files[p] = data
	return len(src), nil
}

func (f *fakeFS) Unlink(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Unlink(%q)", path)
	if _, ok := f.files[path]; !ok {
		return unix.ENOENT
	}
	delete(f.files, path)
	return nil
}

func (f *fakeFS) Readlink(path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Readlink(%q)", path)
	if t, ok := f.links[path]; ok {
		return t, nil
	}
	if _, ok := f.files[path]; ok {
		return "", unix.EINVAL
	}
	return "", unix.ENOENT
}

func (f *fakeFS) stat(path string) unix.Stat_t {
	return unix.Stat_t{
		Dev: 0x0000_0001_0000_0803, Ino: 0x1_2345_6789, Mode: unix.S_IFREG | 0o4755, Nlink: 2,
		Uid: 1000, Gid: 100, Rdev: 0, Size: int64(len(f.files[path])), Blksize: 4096, Blocks: 8,
		Atim: unix.Timespec{Sec: 0x1_6000_0001}, Mtim: unix.Timespec{Sec: 0x6000_0002}, Ctim: unix.Timespec{Sec: 0x6000_0003},
	}
}

func (f *fakeFS) Fstat(fd int) (unix.Stat_t, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Fstat(%d)", fd)
	p, ok := f.fds[fd]
	if !ok {
		return unix.Stat_t{}, unix.EBADF
	}
	return f.stat(p), nil
}

func (f *fakeFS) Stat(path string) (unix.Stat_t, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Stat(%q)", path)
	if _, ok := f.files[path]; !ok {
		return unix.Stat_t{}, unix.ENOENT
	}
	return f.stat(path), nil
}

func (f *fakeFS) Lstat(path string) (unix.Stat_t, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Lstat(%q)", path)
	if t, ok := f.links[path]; ok {
		st := f.stat(path)
		st.Mode, st.Size = unix.S_IFLNK|0o777, int64(len(t))
		return st, nil
	}
	if _, ok := f.files[path]; !ok {
		return unix.Stat_t{}, unix.ENOENT
	}
	return f.stat(path), nil
}

func (f *fakeFS) CloseAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("CloseAll")
	f.closed = true
	clear(f.fds)
	return nil
}

func (f *fakeFS) called() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.calls, " ")
	f.calls = nil
	return s
}

// hexPath encodes a path for a vFile packet.
func hexPath(p string) string { return hex.EncodeToString([]byte(p)) }

// startFileSession serves a fake target with fs as its host I/O.
func startFileSession(t *testing.T, fs *fakeFS) *harness {
	t.Helper()
	made := 0
	h := startSession(t, newFakeTarget(), Config{Files: func() (FileSystem, error) {
		made++
		if made > 1 {
			t.Errorf("Config.Files called %d times in one session", made)
		}
		return fs, nil
	}})
	return h
}

func TestFileUnsupportedWithoutConfig(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	for _, p := range []string{"vFile:setfs:0", "vFile:open:" + hexPath("/bin/prog") + ",0,0", "vFile:pread:3,10,0", "vFile:fstat:3"} {
		h.expect(p, "")
	}
}

func TestFileSession(t *testing.T) {
	fs := newFakeFS()
	h := startFileSession(t, fs)

	// gdb's probe: an error reply means the packet is supported.
	h.expect("vFile:open:"+hexPath("just probing")+",0,1c0", "F-1,2")
	h.expect("vFile:setfs:0", "F0")
	h.expect("vFile:setfs:"+fmt.Sprintf("%x", fakePID), "F0")
	if got, want := fs.called(), `Open("just probing", 0x0, 0700) Setfs(0) Setfs(100)`; got != want {
		t.Errorf("calls: %s\nwant:  %s", got, want)
	}

	h.expect("vFile:open:"+hexPath("/bin/prog")+",0,0", "F3")
	// The data is sent as it is; the framing escapes $, #, } and *.
	h.expect("vFile:pread:3,1000,0", "Fd;\x7fELF$#}*\x00data")
	h.expect("vFile:pread:3,4,2", "F4;LF$#")
	h.expect("vFile:pread:3,10,11", "F0;")
	h.expect("vFile:pread:3,10,1000", "F0;")
	h.expect("vFile:pread:3,0,0", "F0;")

	// A count larger than a reply can carry is cut to what it can.
	big := make([]byte, 3*packetSize)
	for i := range big {
		big[i] = byte(i * 7)
	}
	fs.files["/big"] = big
	h.expect("vFile:open:"+hexPath("/big")+",0,0", "F4")
	r := h.exchange("vFile:pread:4,ffffffff,1")
	head := fmt.Sprintf("F%x;", maxFileData)
	if !strings.HasPrefix(r, head) || r[len(head):] != string(big[1:1+maxFileData]) {
		t.Errorf("pread of ffffffff bytes: got %d bytes starting %q, want %q and %d bytes of the file", len(r), r[:min(len(r), 12)], head, maxFileData)
	}

	fs.called()
	st := h.exchange("vFile:fstat:3")
	if !strings.HasPrefix(st, "F40;") || len(st) != 4+fioStatSize {
		t.Fatalf("fstat: %q", st)
	}
	checkStat(t, []byte(st[4:]), 13)
	st = h.exchange("vFile:stat:" + hexPath("/bin/prog"))
	if !strings.HasPrefix(st, "F40;") || len(st) != 4+fioStatSize {
		t.Fatalf("stat: %q", st)
	}
	checkStat(t, []byte(st[4:]), 13)
	if lst := h.exchange("vFile:lstat:" + hexPath("/bin/prog")); lst != st {
		t.Errorf("lstat of a file: %q, want the stat %q", lst, st)
	}
	// A link's own status: its size, and no type gdb knows of (the
	// protocol's mode has regular files and directories only).
	st = h.exchange("vFile:lstat:" + hexPath("/lib/link"))
	if !strings.HasPrefix(st, "F40;") || len(st) != 4+fioStatSize {
		t.Fatalf("lstat: %q", st)
	}
	if mode, size := binary.BigEndian.Uint32([]byte(st[4+8:])), binary.BigEndian.Uint64([]byte(st[4+28:])); mode != 0o777 || size != 14 {
		t.Errorf("lstat of a link: mode %#o size %d, want 0777 and 14", mode, size)
	}
	if got, want := fs.called(), `Fstat(3) Stat("/bin/prog") Lstat("/bin/prog") Lstat("/lib/link")`; got != want {
		t.Errorf("calls: %s\nwant:  %s", got, want)
	}

	h.expect("vFile:readlink:"+hexPath("/lib/link"), "Fe;/lib/target.so")
	h.expect("vFile:close:3", "F0")
	h.expect("vFile:close:3", "F-1,9")
	fs.called()

	// Writing: flags and mode are translated to the host's.
	h.expect("vFile:open:"+hexPath("/tmp/new")+",601,1c0", "F3")
	if got, want := fs.called(), fmt.Sprintf("Open(%q, %#x, %#o)", "/tmp/new", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o700); got != want {
		t.Errorf("calls: %s\nwant:  %s", got, want)
	}
	data := "a$b#c}d*e\x00\x03\xff"
	h.expect("vFile:pwrite:3,0,"+data, fmt.Sprintf("F%x", len(data)))
	h.expect("vFile:pwrite:3,2,,,", "F2")
	if got, want := string(fs.files["/tmp/new"]), "a$,,c}d*e\x00\x03\xff"; got != want {
		t.Errorf("file after pwrite: %q, want %q", got, want)
	}
	h.expect("vFile:unlink:"+hexPath("/tmp/new"), "F0")
	h.expect("vFile:unlink:"+hexPath("/tmp/new"), "F-1,2")

	// The session still answers other packets, and closes the files when
	// it ends.
	h.expect("qC", "QC64")
	h.client.Close()
	h.outcome()
	if !fs.closed {
		t.Error("CloseAll was not called when the session ended")
	}
}

// checkStat checks the struct stat fakeFS returns for a file of size n.
func checkStat(t *testing.T, b []byte, size uint64) {
	t.Helper()
	be := binary.BigEndian
	want := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"st_dev", uint64(be.Uint32(b[0:])), 0x0803},
		{"st_ino", uint64(be.Uint32(b[4:])), 0x23456789},
		{"st_mode", uint64(be.Uint32(b[8:])), 0o100755},
		{"st_nlink", uint64(be.Uint32(b[12:])), 2},
		{"st_uid", uint64(be.Uint32(b[16:])), 1000},
		{"st_gid", uint64(be.Uint32(b[20:])), 100},
		{"st_rdev", uint64(be.Uint32(b[24:])), 0},
		{"st_size", be.Uint64(b[28:]), size},
		{"st_blksize", be.Uint64(b[36:]), 4096},
		{"st_blocks", be.Uint64(b[44:]), 8},
		{"st_atime", uint64(be.Uint32(b[52:])), 0x60000001},
		{"st_mtime", uint64(be.Uint32(b[56:])), 0x60000002},
		{"st_ctime", uint64(be.Uint32(b[60:])), 0x60000003},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %#x, want %#x", w.name, w.got, w.want)
		}
	}
}

// TestFileErrors sends every call with bad arguments: each gets an F-1
// reply with gdb's errno, and the session goes on.
func TestFileErrors(t *testing.T) {
	fs := newFakeFS()
	fs.files["/ro"] = []byte("x")
	h := startFileSession(t, fs)
	h.expect("vFile:open:"+hexPath("/ro")+",0,0", "F3")
	tests := []struct {
		packet string
		want   string
	}{
		{"vFile:setfs:", "F-1,16"},
		{"vFile:setfs:xyz", "F-1,16"},
		{"vFile:setfs:-1", "F-1,16"},
		{"vFile:setfs:1234", "F-1,1"}, // not a debugged process
		{"vFile:setfs:10000000000000000", "F-1,16"},
		{"vFile:open:", "F-1,16"},
		{"vFile:open:" + hexPath("/ro"), "F-1,16"},
		{"vFile:open:" + hexPath("/ro") + ",0", "F-1,16"},
		{"vFile:open:2f6,0,0", "F-1,16"},  // odd hex
		{"vFile:open:zz,0,0", "F-1,16"},   // not hex
		{"vFile:open:,0,0", "F-1,16"},     // empty path
		{"vFile:open:2f00,0,0", "F-1,16"}, // NUL: the FileSystem refuses it
		{"vFile:open:" + hexPath("/ro") + ",3,0", "F-1,16"},
		{"vFile:open:" + hexPath("/missing") + ",0,0", "F-1,2"},
		{"vFile:open:" + hexPath("/ro") + ",a00,1c0", "F-1,11"}, // O_CREAT|O_EXCL on an existing file
		{"vFile:close:", "F-1,16"},
		{"vFile:close:-1", "F-1,9"},
		{"vFile:close:99", "F-1,9"},
		{"vFile:close:100000000", "F-1,9"},
		{"vFile:pread:3,10", "F-1,16"},
		{"vFile:pread:3,10,-1", "F-1,16"},
		{"vFile:pread:3,-10,0", "F-1,16"},
		{"vFile:pread:-3,10,0", "F-1,9"},
		{"vFile:pread:99,10,0", "F-1,9"},
		{"vFile:pread:3,10,0g", "F-1,16"},
		{"vFile:pread:3,10,8000000000000000", "F-1,16"}, // beyond int64
		{"vFile:pwrite:3", "F-1,16"},
		{"vFile:pwrite:3,0", "F-1,16"},
		{"vFile:pwrite:3,-1,abc", "F-1,16"},
		{"vFile:pwrite:99,0,abc", "F-1,9"},
		{"vFile:unlink:", "F-1,16"},
		{"vFile:unlink:" + hexPath("/missing"), "F-1,2"},
		{"vFile:readlink:", "F-1,16"},
		{"vFile:readlink:" + hexPath("/ro"), "F-1,16"},
		{"vFile:readlink:" + hexPath("/missing"), "F-1,2"},
		{"vFile:fstat:", "F-1,16"},
		{"vFile:fstat:99", "F-1,9"},
		{"vFile:fstat:-1", "F-1,9"},
		{"vFile:stat:", "F-1,16"},
		{"vFile:stat:" + hexPath("/missing"), "F-1,2"},
		{"vFile:lstat:", "F-1,16"},
		{"vFile:lstat:zz", "F-1,16"},
		{"vFile:lstat:" + hexPath("/missing"), "F-1,2"},
		{"vFile:frobnicate:0", ""}, // unknown operation: not supported
	}
	for _, tt := range tests {
		h.expect(tt.packet, tt.want)
	}
	// The descriptor opened first still works.
	h.expect("vFile:pread:3,10,0", "F1;x")

	fs.readOnly = true
	h.expect("vFile:open:"+hexPath("/ro")+",2,0", "F-1,1e")
	h.expect("vFile:pwrite:3,0,x", "F-1,1e")
}

// TestFileSystemUnavailable: a FileSystem that cannot be made fails every
// call, and is asked for once.
func TestFileSystemUnavailable(t *testing.T) {
	calls := 0
	h := startSession(t, newFakeTarget(), Config{Files: func() (FileSystem, error) {
		calls++
		return nil, &fakePathError{"/root", unix.EACCES}
	}})
	h.expect("vFile:setfs:0", "F-1,d")
	h.expect("vFile:open:"+hexPath("/x")+",0,0", "F-1,d")
	if calls != 1 {
		t.Errorf("Config.Files called %d times, want 1", calls)
	}
}

func TestFileErrno(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{unix.EPERM, 1}, {unix.ENOENT, 2}, {unix.EINTR, 4}, {unix.EBADF, 9}, {unix.EACCES, 13},
		{unix.EFAULT, 14}, {unix.EBUSY, 16}, {unix.EEXIST, 17}, {unix.ENODEV, 19}, {unix.ENOTDIR, 20},
		{unix.EISDIR, 21}, {unix.EINVAL, 22}, {unix.ENFILE, 23}, {unix.EMFILE, 24}, {unix.EFBIG, 27},
		{unix.ENOSPC, 28}, {unix.ESPIPE, 29}, {unix.EROFS, 30}, {unix.ENAMETOOLONG, 91},
		{unix.ELOOP, 9999}, {unix.EIO, 9999}, {unix.EXDEV, 9999},
		{fmt.Errorf("open /x: %w", unix.ENOENT), 2},
		{errMalformed, 22}, {errHexDigit, 22},
		{errors.New("something else"), 9999},
	}
	for _, tt := range tests {
		if got := fileErrno(tt.err); got != tt.want {
			t.Errorf("fileErrno(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHostOpenFlags(t *testing.T) {
	tests := []struct {
		gdb  int64
		want int
	}{
		{fioRDONLY, unix.O_RDONLY},
		{fioWRONLY, unix.O_WRONLY},
		{fioRDWR, unix.O_RDWR},
		{fioWRONLY | fioCREAT | fioTRUNC, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC},
		{fioRDWR | fioAPPEND | fioCREAT | fioEXCL, unix.O_RDWR | unix.O_APPEND | unix.O_CREAT | unix.O_EXCL},
		{0x7000_0000 | fioRDONLY, unix.O_RDONLY}, // undefined bits are ignored
		{3, 3},
	}
	for _, tt := range tests {
		if got := hostOpenFlags(tt.gdb); got != tt.want {
			t.Errorf("hostOpenFlags(%#x) = %#x, want %#x", tt.gdb, got, tt.want)
		}
	}
	if got := hostMode(0o100644 | 0o4000); got != 0o644 {
		t.Errorf("hostMode(0104644) = %#o, want 0644", got)
	}
	for _, tt := range []struct{ host, want uint32 }{
		{unix.S_IFREG | 0o755, 0o100755},
		{unix.S_IFDIR | 0o700, 0o40700},
		{unix.S_IFLNK | 0o777, 0o777}, // shares a bit with S_IFREG
		{unix.S_IFBLK | 0o600, 0o600}, // shares a bit with S_IFDIR
		{unix.S_IFCHR | 0o6666, 0o666},
	} {
		if got := fileMode(tt.host); got != tt.want {
			t.Errorf("fileMode(%#o) = %#o, want %#o", tt.host, got, tt.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	if r, err := parseFileOpen([]byte("2f612c62,601,-1c0")); err != nil || r != (fileOpen{"/a,b", 0x601, -0x1c0}) {
		t.Errorf("parseFileOpen: %+v, %v", r, err)
	}
	if r, err := parseFilePread([]byte("3,4000,7fffffffffffffff")); err != nil || r != (filePread{3, 0x4000, math.MaxInt64}) {
		t.Errorf("parseFilePread: %+v, %v", r, err)
	}
	if r, err := parseFilePwrite([]byte("3,10,a,b\x00")); err != nil || r.fd != 3 || r.offset != 0x10 || string(r.data) != "a,b\x00" {
		t.Errorf("parseFilePwrite: %+v, %v", r, err)
	}
	if r, err := parseFilePwrite([]byte("3,10,")); err != nil || len(r.data) != 0 {
		t.Errorf("parseFilePwrite with no data: %+v, %v", r, err)
	}
	for _, in := range []string{"", "-", "--1", "+1", "8000000000000000", "-8000000000000000", "1 "} {
		if v, err := parseFileInt([]byte(in)); err == nil {
			t.Errorf("parseFileInt(%q) = %d, want an error", in, v)
		}
	}
	if v, err := parseFileInt([]byte("-7fffffffffffffff")); err != nil || v != -math.MaxInt64 {
		t.Errorf("parseFileInt(-7fff...) = %d, %v", v, err)
	}
}

func FuzzParseFileSetfs(f *testing.F) {
	f.Add([]byte("0"))
	f.Add([]byte("4221"))
	f.Add([]byte("-1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseFileNumber(in)
		if err != nil {
			return
		}
		if again, err := parseFileNumber(appendFileInt(nil, v)); err != nil || again != v {
			t.Fatalf("round trip of %q: %d, %v; want %d", in, again, err, v)
		}
	})
}

func FuzzParseFileOpen(f *testing.F) {
	f.Add([]byte("2f746d702f6869,601,1c0"))
	f.Add([]byte("6a7573742070726f62696e67,0,1c0"))
	f.Add([]byte("00,-1,-0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseFileOpen(in)
		if err != nil {
			return
		}
		if again, err := parseFileOpen(appendFileOpen(nil, r)); err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func FuzzParseFileClose(f *testing.F) {
	f.Add([]byte("6"))
	f.Add([]byte("-6"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseFileNumber(in)
		if err != nil {
			return
		}
		if _, err := fileFD(v); err == nil && (v < 0 || v > math.MaxInt32) {
			t.Fatalf("fileFD(%d) accepted", v)
		}
		if again, err := parseFileNumber(appendFileInt(nil, v)); err != nil || again != v {
			t.Fatalf("round trip of %q: %d, %v; want %d", in, again, err, v)
		}
	})
}

func FuzzParseFilePread(f *testing.F) {
	f.Add([]byte("6,47ff,34218"))
	f.Add([]byte("6,-1,0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseFilePread(in)
		if err != nil {
			return
		}
		if again, err := parseFilePread(appendFilePread(nil, r)); err != nil || again != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func FuzzParseFilePwrite(f *testing.F) {
	f.Add([]byte("8,0,}include <stdio.h>"))
	f.Add([]byte("8,10,,,"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseFilePwrite(in)
		if err != nil {
			return
		}
		again, err := parseFilePwrite(appendFilePwrite(nil, r))
		if err != nil || again.fd != r.fd || again.offset != r.offset || !bytes.Equal(again.data, r.data) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func FuzzParseFilePath(f *testing.F) {
	f.Add([]byte("2f746d702f68695f636f70792e63"))
	f.Add([]byte("2f00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := parseFilePath(in)
		if err != nil {
			return
		}
		if again, err := parseFilePath(appendFilePath(nil, p)); err != nil || again != p {
			t.Fatalf("round trip of %q: %q, %v; want %q", in, again, err, p)
		}
	})
}

// FuzzFileSession sends arbitrary vFile packets to a session: it must
// answer each with an F reply (or the empty one for an unknown
// operation) and never stop.
func FuzzFileSession(f *testing.F) {
	for _, s := range []string{"open:2f62696e2f70726f67,0,0", "pread:3,10,0", "pwrite:3,0,abc", "fstat:3", "stat:2f", "lstat:2f6c69622f6c696e6b", "setfs:64", "close:3", "readlink:2f6c69622f6c696e6b", "unlink:2f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := NewSession(nil, newFakeTarget(), Config{Files: func() (FileSystem, error) { return newFakeFS(), nil }})
		r := s.dispatch([]byte("vFile:" + in))
		if r.kind != replyData && r.kind != replyEmpty {
			t.Fatalf("vFile:%q: reply kind %d", in, r.kind)
		}
		if r.kind == replyData && (len(r.data) < 2 || r.data[0] != 'F') {
			t.Fatalf("vFile:%q: reply %q", in, r.data)
		}
	})
}
