package rsp

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseFileReply(t *testing.T) {
	tests := []struct {
		in   string
		want FileReply
	}{
		{"F0", FileReply{}},
		{"F5", FileReply{Result: 5}},
		{"F3;a;b", FileReply{Result: 3, Data: []byte("a;b")}},
		{"F-1,2", FileReply{Result: -1, Errno: unix.ENOENT}},
		{"F-1,5b", FileReply{Result: -1, Errno: unix.ENAMETOOLONG}},
		{"F-1,270f", FileReply{Result: -1}}, // EUNKNOWN
		{"F-1,5", FileReply{Result: -1}},    // EIO: not in the protocol
	}
	for _, tt := range tests {
		got, err := ParseFileReply([]byte(tt.in))
		if err != nil || got.Result != tt.want.Result || got.Errno != tt.want.Errno || !bytes.Equal(got.Data, tt.want.Data) {
			t.Errorf("ParseFileReply(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "F", "G0", "Fx", "F-1,", "F-1,x;"} {
		if r, err := ParseFileReply([]byte(in)); !errors.Is(err, errMalformed) && !isHexError(err) {
			t.Errorf("ParseFileReply(%q) = %+v, %v; want a malformed error", in, r, err)
		}
	}
}

// TestHostErrno checks that every errno the session reports comes back as
// itself.
func TestHostErrno(t *testing.T) {
	for e := unix.Errno(1); e < 256; e++ {
		n := fileErrno(e)
		if got := hostErrno(int64(n)); n != fioEUNKNOWN && got != e {
			t.Errorf("%v: protocol's %d comes back as %v", e, n, got)
		}
	}
}

func TestFileOpenFlags(t *testing.T) {
	for _, host := range []int{
		unix.O_RDONLY, unix.O_WRONLY, unix.O_RDWR,
		unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC,
		unix.O_RDWR | unix.O_APPEND | unix.O_CREAT | unix.O_EXCL,
	} {
		if got := hostOpenFlags(FileOpenFlags(host)); got != host {
			t.Errorf("hostOpenFlags(FileOpenFlags(%#x)) = %#x", host, got)
		}
	}
	if got := FileOpenFlags(unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW); got != fioRDONLY {
		t.Errorf("FileOpenFlags with flags the protocol lacks = %#x, want %#x", got, fioRDONLY)
	}
}

func TestParseFileStat(t *testing.T) {
	st := unix.Stat_t{
		Dev: 0x801, Ino: 0x1234, Mode: unix.S_IFREG | 0o644, Nlink: 1, Uid: 1000, Gid: 100,
		Rdev: 0, Size: 1 << 40, Blksize: 4096, Blocks: 8,
		Atim: unix.Timespec{Sec: 1700000000}, Mtim: unix.Timespec{Sec: 1700000001}, Ctim: unix.Timespec{Sec: 1700000002},
	}
	got, err := ParseFileStat(appendFileStat(nil, &st))
	if err != nil || got != st {
		t.Errorf("ParseFileStat(appendFileStat(%+v)) = %+v, %v", st, got, err)
	}
	if _, err := ParseFileStat(make([]byte, fioStatSize-1)); !errors.Is(err, errMalformed) {
		t.Errorf("ParseFileStat of 63 bytes: %v, want a malformed error", err)
	}
}

func FuzzParseFileReply(f *testing.F) {
	for _, s := range []string{"F0", "F3;abc", "F-1,2", "F40;" + string(make([]byte, 64))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseFileReply(in)
		if err != nil {
			return
		}
		// What parses re-encodes to a reply that parses the same.
		b := appendFileInt([]byte("F"), r.Result)
		if r.Errno != 0 {
			b = appendFileInt(append(b, ','), int64(fileErrno(r.Errno)))
		}
		if r.Data != nil {
			b = append(append(b, ';'), r.Data...)
		}
		r2, err := ParseFileReply(b)
		if err != nil || r2.Result != r.Result || r2.Errno != r.Errno || !bytes.Equal(r2.Data, r.Data) {
			t.Fatalf("%q parsed as %+v, encoded as %q, parsed as %+v, %v", in, r, b, r2, err)
		}
		if len(r.Data) == fioStatSize {
			if _, err := ParseFileStat(r.Data); err != nil {
				t.Fatalf("ParseFileStat(%q): %v", r.Data, err)
			}
		}
	})
}
