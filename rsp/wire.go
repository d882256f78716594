package rsp

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// The protocol's syntax as a client needs it, exported for package client
// (rsp/client), which builds a typed client on Client. Each function here
// is the other half of something the session decodes or encodes, so the
// two ends share one implementation and are tested against each other.

// ParseThreadID decodes a thread id as a stub writes it ("TID",
// "pPID.TID", "pPID", "-1", "0"). A bare thread id has PID inferior.Any.
func ParseThreadID(b []byte) (inferior.ThreadID, error) {
	return parseThreadID(b)
}

// AppendThreadID appends id as a packet carries it: "pPID.TID" when the
// multiprocess feature was agreed, the TID alone otherwise; inferior.All is
// written "-1".
func AppendThreadID(dst []byte, id inferior.ThreadID, multiprocess bool) []byte {
	return appendThreadID(dst, id, multiprocess)
}

// GDBSignal returns gdb's number for the Linux signal sig: what resume
// packets carry, unless the stub speaks Linux numbers (native-signals+).
func GDBSignal(sig int) int {
	return gdbSignal(sig)
}

// HostSignal returns the Linux number of gdb's signal sig; ok is false
// when Linux has no such signal.
func HostSignal(sig int) (host int, ok bool) {
	return hostSignal(sig)
}

// EscapedLen returns how many bytes b takes in a packet once the framing
// has escaped it, for a client that must keep a binary packet (X,
// vFile:pwrite) within the stub's PacketSize.
func EscapedLen(b []byte) int {
	n := len(b)
	for _, c := range b {
		if needsEscape[c] {
			n++
		}
	}
	return n
}

// FileReply is a Host I/O reply, "F result[,errno][;attachment]".
type FileReply struct {
	Result int64
	// Errno is the Linux errno of a failure (Result -1), 0 when the
	// stub's errno has no Linux counterpart (EUNKNOWN).
	Errno unix.Errno
	// Data is the attachment: pread's data, readlink's target, fstat's
	// struct stat (ParseFileStat).
	Data []byte
}

// ParseFileReply decodes a Host I/O reply. Data shares b's memory.
func ParseFileReply(b []byte) (FileReply, error) {
	rest, ok := bytes.CutPrefix(b, []byte("F"))
	if !ok {
		return FileReply{}, fmt.Errorf("file reply %.40q: want F: %w", b, errMalformed)
	}
	var r FileReply
	rest, r.Data, _ = bytes.Cut(rest, []byte(";"))
	result, errno, hasErrno := bytes.Cut(rest, []byte(","))
	var err error
	if r.Result, err = parseFileInt(result); err != nil {
		return FileReply{}, fmt.Errorf("file reply %.40q: result: %w", b, err)
	}
	if hasErrno {
		n, err := parseFileInt(errno)
		if err != nil {
			return FileReply{}, fmt.Errorf("file reply %.40q: errno: %w", b, err)
		}
		r.Errno = hostErrno(n)
	}
	return r, nil
}

// hostErrno returns the Linux errno whose protocol number is n: the
// inverse of fileErrno, 0 for EUNKNOWN and numbers the protocol lacks.
func hostErrno(n int64) unix.Errno {
	if n <= 0 || n == fioEUNKNOWN {
		return 0
	}
	for e := unix.Errno(1); e < 256; e++ {
		if int64(fileErrno(e)) == n {
			return e
		}
	}
	return 0
}

// FileOpenFlags returns the protocol's open flags for host open(2) flags:
// the access mode, O_APPEND, O_CREAT, O_TRUNC and O_EXCL; other flags
// have no equivalent and are dropped.
func FileOpenFlags(host int) int64 {
	f := int64(host & 3)
	for _, bit := range []int64{fioAPPEND, fioCREAT, fioTRUNC, fioEXCL} {
		if host&hostOpenFlags(bit) != 0 {
			f |= bit
		}
	}
	return f
}

// ParseFileStat decodes the protocol's struct stat (fstat's attachment)
// into the fields it has: Dev, Ino, Mode (the file type and permission
// bits), Nlink, Uid, Gid, Rdev, Size, Blksize, Blocks and the seconds of
// Atim, Mtim and Ctim.
func ParseFileStat(b []byte) (unix.Stat_t, error) {
	if len(b) != fioStatSize {
		return unix.Stat_t{}, fmt.Errorf("struct stat of %d bytes, want %d: %w", len(b), fioStatSize, errMalformed)
	}
	be := binary.BigEndian
	u32 := func(off int) uint32 { return be.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return be.Uint64(b[off:]) }
	var st unix.Stat_t
	st.Dev, st.Ino, st.Mode = uint64(u32(0)), uint64(u32(4)), u32(8)
	st.Nlink, st.Uid, st.Gid, st.Rdev = uint64(u32(12)), u32(16), u32(20), uint64(u32(24))
	st.Size, st.Blksize, st.Blocks = int64(u64(28)), int64(u64(36)), int64(u64(44))
	st.Atim.Sec, st.Mtim.Sec, st.Ctim.Sec = int64(u32(52)), int64(u32(56)), int64(u32(60))
	return st, nil
}
