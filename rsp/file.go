package rsp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// Host I/O, per the manual's "Host I/O Packets" and, for the constants and
// the struct stat layout, "File-I/O Remote Protocol Extension":
//
//	vFile:setfs:PID             select PID's file system (0: the stub's)
//	vFile:open:PATH,FLAGS,MODE  PATH in hex; FLAGS and MODE gdb's values
//	vFile:close:FD
//	vFile:pread:FD,COUNT,OFFSET reply: F<n>;<n bytes, binary>
//	vFile:pwrite:FD,OFFSET,DATA DATA binary, escaped by the framing
//	vFile:unlink:PATH
//	vFile:readlink:PATH         reply: F<n>;<the link's n bytes>
//	vFile:fstat:FD              reply: F40;<64-byte struct stat>
//	vFile:stat:PATH             as fstat, following symbolic links (lldb's,
//	                            and gdb's since 16; gdb 13 opens and fstats)
//	vFile:lstat:PATH            as stat, of a symbolic link itself (gdb 17)
//	vFile:size:PATH             reply: F<size> (lldb's)
//	vFile:mode:PATH             reply: F<mode bits> (lldb's)
//	vFile:exists:PATH           reply: F,1 or F,0 (lldb's)
//
// Numbers are hex, negative ones with a minus sign. Every reply is
// "F result[,errno][;attachment]": result -1 and gdb's errno number on
// failure. Malformed arguments get EINVAL, so the session always answers
// in the form the client expects and goes on. The packets are not
// advertised in qSupported: gdb probes them (vFile:open of a file named
// "just probing"). A session offers them only when Config.Files is set.
// lldb's vFile:open flags and errno values are gdb's since lldb 14; its
// vFile:size, vFile:mode and vFile:exists are answered from Stat.

// filePackets are the dispatch-table rows of the vFile packets, gdb's and
// lldb's.
func filePackets() []entry {
	return []entry{
		{prefix: "vFile:setfs:", enabled: hasFiles, handle: (*Session).vFileSetfs},
		{prefix: "vFile:open:", enabled: hasFiles, handle: (*Session).vFileOpen},
		{prefix: "vFile:close:", enabled: hasFiles, handle: (*Session).vFileClose},
		{prefix: "vFile:pread:", enabled: hasFiles, handle: (*Session).vFilePread},
		{prefix: "vFile:pwrite:", enabled: hasFiles, handle: (*Session).vFilePwrite},
		{prefix: "vFile:unlink:", enabled: hasFiles, handle: (*Session).vFileUnlink},
		{prefix: "vFile:readlink:", enabled: hasFiles, handle: (*Session).vFileReadlink},
		{prefix: "vFile:fstat:", enabled: hasFiles, handle: (*Session).vFileFstat},
		{prefix: "vFile:stat:", enabled: hasFiles, handle: (*Session).vFileStat},
		{prefix: "vFile:lstat:", enabled: hasFiles, handle: (*Session).vFileLstat},
		{prefix: "vFile:size:", enabled: hasFiles, handle: (*Session).vFileSize},
		{prefix: "vFile:mode:", enabled: hasFiles, handle: (*Session).vFileMode},
		{prefix: "vFile:exists:", enabled: hasFiles, handle: (*Session).vFileExists},
	}
}

// FileSystem is what a session needs for host I/O: the files of one
// client, opened with the stub's rights. Package hostio implements it.
// Descriptors are the FileSystem's own numbers for this client. Errors
// wrap a unix.Errno, which the session translates to gdb's numbers; other
// errors are reported as EUNKNOWN.
type FileSystem interface {
	// Setfs selects the file system paths are resolved in: process
	// pid's (its mount namespace and root), or the stub's own for 0.
	Setfs(pid int) error
	// Open opens path with host open(2) flags (access mode, O_APPEND,
	// O_CREAT, O_TRUNC, O_EXCL) and, when creating, host permission
	// bits, and returns a descriptor.
	Open(path string, flags int, mode uint32) (fd int, err error)
	// Close closes a descriptor Open returned.
	Close(fd int) error
	// Pread reads up to len(dst) bytes at offset; it returns fewer at
	// the end of the file.
	Pread(fd int, dst []byte, offset int64) (int, error)
	// Pwrite writes src at offset and returns how many bytes it wrote.
	Pwrite(fd int, src []byte, offset int64) (int, error)
	// Unlink removes a file.
	Unlink(path string) error
	// Readlink returns the target of a symbolic link.
	Readlink(path string) (string, error)
	// Fstat, Stat and Lstat return a file's status; Stat follows a
	// symbolic link in the last element of the path, Lstat does not.
	Fstat(fd int) (unix.Stat_t, error)
	Stat(path string) (unix.Stat_t, error)
	Lstat(path string) (unix.Stat_t, error)
	// CloseAll closes every descriptor; the session calls it when it
	// ends.
	CloseAll() error
}

// File-I/O constants, from the manual's "Constants" section.
const (
	// Open flags (hex in the manual).
	fioRDONLY = 0x0
	fioWRONLY = 0x1
	fioRDWR   = 0x2
	fioAPPEND = 0x8
	fioCREAT  = 0x200
	fioTRUNC  = 0x400
	fioEXCL   = 0x800

	// mode_t values (octal in the manual).
	fioIFREG = 0o100000
	fioIFDIR = 0o40000
	fioPerm  = 0o777 // S_IRUSR ... S_IXOTH

	// Errno values (decimal in the manual).
	fioEPERM        = 1
	fioENOENT       = 2
	fioEINTR        = 4
	fioEBADF        = 9
	fioEACCES       = 13
	fioEFAULT       = 14
	fioEBUSY        = 16
	fioEEXIST       = 17
	fioENODEV       = 19
	fioENOTDIR      = 20
	fioEISDIR       = 21
	fioEINVAL       = 22
	fioENFILE       = 23
	fioEMFILE       = 24
	fioEFBIG        = 27
	fioENOSPC       = 28
	fioESPIPE       = 29
	fioEROFS        = 30
	fioENAMETOOLONG = 91
	fioEUNKNOWN     = 9999

	// fioStatSize is the size of the protocol's struct stat.
	fioStatSize = 64
)

// maxFileData bounds a pread: the reply ("F", the count, ';', the data)
// stays within PacketSize before escaping.
const maxFileData = packetSize - 16

// fileErrno returns gdb's errno number for err: the unix.Errno it wraps
// translated, EINVAL for a malformed request, EUNKNOWN for anything else.
func fileErrno(err error) int {
	if errno, ok := errors.AsType[unix.Errno](err); ok {
		switch errno {
		case unix.EPERM:
			return fioEPERM
		case unix.ENOENT:
			return fioENOENT
		case unix.EINTR:
			return fioEINTR
		case unix.EBADF:
			return fioEBADF
		case unix.EACCES:
			return fioEACCES
		case unix.EFAULT:
			return fioEFAULT
		case unix.EBUSY:
			return fioEBUSY
		case unix.EEXIST:
			return fioEEXIST
		case unix.ENODEV:
			return fioENODEV
		case unix.ENOTDIR:
			return fioENOTDIR
		case unix.EISDIR:
			return fioEISDIR
		case unix.EINVAL:
			return fioEINVAL
		case unix.ENFILE:
			return fioENFILE
		case unix.EMFILE:
			return fioEMFILE
		case unix.EFBIG:
			return fioEFBIG
		case unix.ENOSPC:
			return fioENOSPC
		case unix.ESPIPE:
			return fioESPIPE
		case unix.EROFS:
			return fioEROFS
		case unix.ENAMETOOLONG:
			return fioENAMETOOLONG
		}
		return fioEUNKNOWN
	}
	if pe, ok := errors.AsType[*protoError](err); ok && (pe.code == codeMalformed || pe.code == codeInvalid) {
		return fioEINVAL
	}
	return fioEUNKNOWN
}

// hostOpenFlags translates gdb's open flags to the host's. Bits the
// manual does not define are ignored, as it says; the access mode 3 is
// passed on for the FileSystem to refuse.
func hostOpenFlags(f int64) int {
	h := int(f & 3) // O_RDONLY, O_WRONLY and O_RDWR are 0, 1, 2 on both sides
	if f&fioAPPEND != 0 {
		h |= unix.O_APPEND
	}
	if f&fioCREAT != 0 {
		h |= unix.O_CREAT
	}
	if f&fioTRUNC != 0 {
		h |= unix.O_TRUNC
	}
	if f&fioEXCL != 0 {
		h |= unix.O_EXCL
	}
	return h
}

// hostMode translates gdb's mode bits for a created file: the permission
// bits, which have the host's values; the type bits mean nothing there.
func hostMode(m int64) uint32 { return uint32(m & fioPerm) }

// fileMode translates a host st_mode to gdb's: the regular file and
// directory types and the permission bits.
func fileMode(m uint32) uint32 {
	out := m & fioPerm
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		out |= fioIFREG
	case unix.S_IFDIR:
		out |= fioIFDIR
	}
	return out
}

// appendFileStat appends the protocol's struct stat for st: big-endian,
// 32-bit dev, ino, mode, nlink, uid, gid, rdev, 64-bit size, blksize,
// blocks, 32-bit atime, mtime, ctime (in seconds). Wider host values are
// truncated, as the protocol's fields are.
func appendFileStat(dst []byte, st *unix.Stat_t) []byte {
	be := binary.BigEndian
	dst = be.AppendUint32(dst, uint32(st.Dev))
	dst = be.AppendUint32(dst, uint32(st.Ino))
	dst = be.AppendUint32(dst, fileMode(st.Mode))
	dst = be.AppendUint32(dst, uint32(st.Nlink))
	dst = be.AppendUint32(dst, st.Uid)
	dst = be.AppendUint32(dst, st.Gid)
	dst = be.AppendUint32(dst, uint32(st.Rdev))
	dst = be.AppendUint64(dst, uint64(st.Size))
	dst = be.AppendUint64(dst, uint64(st.Blksize))
	dst = be.AppendUint64(dst, uint64(st.Blocks))
	dst = be.AppendUint32(dst, uint32(st.Atim.Sec))
	dst = be.AppendUint32(dst, uint32(st.Mtim.Sec))
	return be.AppendUint32(dst, uint32(st.Ctim.Sec))
}

// Requests, as the parsers below decode them.
type (
	fileOpen struct {
		path  string
		flags int64
		mode  int64
	}
	filePread struct {
		fd, count, offset int64
	}
	filePwrite struct {
		fd, offset int64
		data       []byte
	}
)

// parseFileInt decodes a number of the Host I/O packets: hex, with a minus
// sign when negative, within int64.
func parseFileInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, err := parseHexUint(b)
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64 {
		return 0, errHexOverflow
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// appendFileInt encodes v as parseFileInt decodes it.
func appendFileInt(dst []byte, v int64) []byte {
	if v < 0 {
		// -v overflows for MinInt64, but as uint64 it is still right.
		return appendHexUint(append(dst, '-'), uint64(-v))
	}
	return appendHexUint(dst, uint64(v))
}

// fileFields splits b at its first n-1 commas into n fields; the last
// field is the rest, commas and all (pwrite's data).
func fileFields(b []byte, n int) ([][]byte, error) {
	fields := make([][]byte, 0, n)
	for len(fields) < n-1 {
		f, rest, ok := bytes.Cut(b, []byte(","))
		if !ok {
			return nil, fmt.Errorf("%q: want %d comma-separated arguments: %w", b, n, errMalformed)
		}
		fields = append(fields, f)
		b = rest
	}
	return append(fields, b), nil
}

// fileInts decodes fields as numbers.
func fileInts(fields [][]byte, names ...string) ([]int64, error) {
	vs := make([]int64, len(names))
	for i, name := range names {
		v, err := parseFileInt(fields[i])
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", name, fields[i], err)
		}
		vs[i] = v
	}
	return vs, nil
}

// parseFilePath decodes a hex-encoded path (unlink, readlink, stat). A
// path is never empty on the wire; a NUL in it is left for the
// FileSystem to refuse.
func parseFilePath(b []byte) (string, error) {
	if len(b) == 0 {
		return "", fmt.Errorf("empty path: %w", errMalformed)
	}
	p, err := parseHexString(b)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", b, err)
	}
	return p, nil
}

// appendFilePath encodes a path as parseFilePath decodes it.
func appendFilePath(dst []byte, path string) []byte {
	return appendHex(dst, []byte(path))
}

// parseFileNumber decodes a single number: setfs's PID, close's and
// fstat's FD.
func parseFileNumber(b []byte) (int64, error) {
	v, err := parseFileInt(b)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", b, err)
	}
	return v, nil
}

// parseFileOpen decodes "PATH,FLAGS,MODE".
func parseFileOpen(b []byte) (fileOpen, error) {
	fs, err := fileFields(b, 3)
	if err != nil {
		return fileOpen{}, err
	}
	path, err := parseFilePath(fs[0])
	if err != nil {
		return fileOpen{}, err
	}
	vs, err := fileInts(fs[1:], "flags", "mode")
	if err != nil {
		return fileOpen{}, err
	}
	return fileOpen{path: path, flags: vs[0], mode: vs[1]}, nil
}

// appendFileOpen encodes r as parseFileOpen decodes it.
func appendFileOpen(dst []byte, r fileOpen) []byte {
	dst = append(appendFilePath(dst, r.path), ',')
	dst = append(appendFileInt(dst, r.flags), ',')
	return appendFileInt(dst, r.mode)
}

// parseFilePread decodes "FD,COUNT,OFFSET".
func parseFilePread(b []byte) (filePread, error) {
	fs, err := fileFields(b, 3)
	if err != nil {
		return filePread{}, err
	}
	vs, err := fileInts(fs, "fd", "count", "offset")
	if err != nil {
		return filePread{}, err
	}
	return filePread{fd: vs[0], count: vs[1], offset: vs[2]}, nil
}

// appendFilePread encodes r as parseFilePread decodes it.
func appendFilePread(dst []byte, r filePread) []byte {
	dst = append(appendFileInt(dst, r.fd), ',')
	dst = append(appendFileInt(dst, r.count), ',')
	return appendFileInt(dst, r.offset)
}

// parseFilePwrite decodes "FD,OFFSET,DATA"; DATA aliases b.
func parseFilePwrite(b []byte) (filePwrite, error) {
	fs, err := fileFields(b, 3)
	if err != nil {
		return filePwrite{}, err
	}
	vs, err := fileInts(fs, "fd", "offset")
	if err != nil {
		return filePwrite{}, err
	}
	return filePwrite{fd: vs[0], offset: vs[1], data: fs[2]}, nil
}

// appendFilePwrite encodes r as parseFilePwrite decodes it.
func appendFilePwrite(dst []byte, r filePwrite) []byte {
	dst = append(appendFileInt(dst, r.fd), ',')
	dst = append(appendFileInt(dst, r.offset), ',')
	return append(dst, r.data...)
}

// fileState is a session's host I/O: its FileSystem, made on the first
// vFile packet, and the buffer preads read into.
type fileState struct {
	fs   FileSystem
	err  error // why Config.Files failed; reported to every request
	made bool
	buf  []byte
}

// hasFiles says whether the session offers host I/O.
func hasFiles(s *Session) bool { return s.cfg.Files != nil }

// fileSystem returns the session's FileSystem, making it on first use.
func (s *Session) fileSystem() (FileSystem, error) {
	f := &s.files
	if !f.made {
		f.made = true
		f.fs, f.err = s.cfg.Files()
		if f.err == nil && f.fs == nil {
			f.err = errors.New("no file system")
		}
		if f.err != nil {
			s.log.Warn("host I/O unavailable", "err", f.err)
		}
	}
	return f.fs, f.err
}

// closeFiles closes the client's files when the session ends.
func (s *Session) closeFiles() {
	if s.files.fs == nil {
		return
	}
	if err := s.files.fs.CloseAll(); err != nil {
		s.log.Warn("host I/O: closing the client's files", "err", err)
	}
	s.files.fs = nil
}

// fileResult replies "F" and the result.
func (s *Session) fileResult(v int64) reply {
	s.buf = appendFileInt(append(s.buf[:0], 'F'), v)
	return dataReply(s.buf)
}

// fileData replies "F", the result, ';' and the attachment.
func (s *Session) fileData(v int64, data []byte) reply {
	s.buf = appendFileInt(append(s.buf[:0], 'F'), v)
	s.buf = append(append(s.buf, ';'), data...)
	return dataReply(s.buf)
}

// fileError replies "F-1," and gdb's errno for err.
func (s *Session) fileError(op string, err error) reply {
	s.log.Debug("host I/O error", "op", op, "err", err)
	s.buf = append(s.buf[:0], "F-1,"...)
	s.buf = appendHexUint(s.buf, uint64(fileErrno(err)))
	return dataReply(s.buf)
}

// fileFD checks a descriptor's range; the FileSystem checks the rest.
func fileFD(v int64) (int, error) {
	if v < 0 || v > math.MaxInt32 {
		return 0, fmt.Errorf("fd %d: %w", v, unix.EBADF)
	}
	return int(v), nil
}

// vFileSetfs answers vFile:setfs. Only the debugged processes' file systems
// may be selected: a client may not look into any other process's mount
// namespace through the stub.
func (s *Session) vFileSetfs(args []byte) reply {
	pid, err := parseFileNumber(args)
	if err != nil {
		return s.fileError("setfs", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("setfs", err)
	}
	if pid < 0 || pid > math.MaxInt32 {
		return s.fileError("setfs", fmt.Errorf("pid %d: %w", pid, unix.EINVAL))
	}
	if pid != 0 && s.knownProcess(int(pid)) != nil {
		return s.fileError("setfs", fmt.Errorf("process %d is not being debugged: %w", pid, unix.EPERM))
	}
	if err := fs.Setfs(int(pid)); err != nil {
		return s.fileError("setfs", err)
	}
	return s.fileResult(0)
}

// vFileOpen answers vFile:open.
func (s *Session) vFileOpen(args []byte) reply {
	r, err := parseFileOpen(args)
	if err != nil {
		return s.fileError("open", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("open", err)
	}
	fd, err := fs.Open(r.path, hostOpenFlags(r.flags), hostMode(r.mode))
	if err != nil {
		return s.fileError("open", err)
	}
	return s.fileResult(int64(fd))
}

// vFileClose answers vFile:close.
func (s *Session) vFileClose(args []byte) reply {
	v, err := parseFileNumber(args)
	if err != nil {
		return s.fileError("close", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("close", err)
	}
	fd, err := fileFD(v)
	if err == nil {
		err = fs.Close(fd)
	}
	if err != nil {
		return s.fileError("close", err)
	}
	return s.fileResult(0)
}

// vFilePread answers vFile:pread with as many bytes as asked for, up to
// what a reply can carry.
func (s *Session) vFilePread(args []byte) reply {
	r, err := parseFilePread(args)
	if err != nil {
		return s.fileError("pread", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("pread", err)
	}
	fd, err := fileFD(r.fd)
	if err != nil {
		return s.fileError("pread", err)
	}
	if r.count < 0 || r.offset < 0 {
		return s.fileError("pread", fmt.Errorf("count %d, offset %d: %w", r.count, r.offset, unix.EINVAL))
	}
	n := int(min(r.count, maxFileData))
	if cap(s.files.buf) < n {
		s.files.buf = make([]byte, n)
	}
	buf := s.files.buf[:n]
	got, err := fs.Pread(fd, buf, r.offset)
	if err != nil {
		return s.fileError("pread", err)
	}
	return s.fileData(int64(got), buf[:got])
}

// vFilePwrite answers vFile:pwrite.
func (s *Session) vFilePwrite(args []byte) reply {
	r, err := parseFilePwrite(args)
	if err != nil {
		return s.fileError("pwrite", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("pwrite", err)
	}
	fd, err := fileFD(r.fd)
	if err != nil {
		return s.fileError("pwrite", err)
	}
	if r.offset < 0 {
		return s.fileError("pwrite", fmt.Errorf("offset %d: %w", r.offset, unix.EINVAL))
	}
	n, err := fs.Pwrite(fd, r.data, r.offset)
	if err != nil {
		return s.fileError("pwrite", err)
	}
	return s.fileResult(int64(n))
}

// vFileUnlink answers vFile:unlink.
func (s *Session) vFileUnlink(args []byte) reply {
	path, err := parseFilePath(args)
	if err != nil {
		return s.fileError("unlink", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("unlink", err)
	}
	if err := fs.Unlink(path); err != nil {
		return s.fileError("unlink", err)
	}
	return s.fileResult(0)
}

// vFileReadlink answers vFile:readlink.
func (s *Session) vFileReadlink(args []byte) reply {
	path, err := parseFilePath(args)
	if err != nil {
		return s.fileError("readlink", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("readlink", err)
	}
	target, err := fs.Readlink(path)
	if err != nil {
		return s.fileError("readlink", err)
	}
	if len(target) > maxFileData {
		return s.fileError("readlink", fmt.Errorf("%s: target of %d bytes: %w", path, len(target), unix.ENAMETOOLONG))
	}
	return s.fileData(int64(len(target)), []byte(target))
}

// vFileFstat answers vFile:fstat.
func (s *Session) vFileFstat(args []byte) reply {
	v, err := parseFileNumber(args)
	if err != nil {
		return s.fileError("fstat", err)
	}
	fs, err := s.fileSystem()
	if err != nil {
		return s.fileError("fstat", err)
	}
	fd, err := fileFD(v)
	if err != nil {
		return s.fileError("fstat", err)
	}
	st, err := fs.Fstat(fd)
	if err != nil {
		return s.fileError("fstat", err)
	}
	return s.fileStat(&st)
}

// vFileStat answers vFile:stat.
func (s *Session) vFileStat(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Stat)
	if err != nil {
		return s.fileError("stat", err)
	}
	return s.fileStat(&st)
}

// vFileLstat answers vFile:lstat.
func (s *Session) vFileLstat(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Lstat)
	if err != nil {
		return s.fileError("lstat", err)
	}
	return s.fileStat(&st)
}

// vFileStatOf decodes the path a vFile packet names and stats it with
// stat (FileSystem.Stat or Lstat).
func (s *Session) vFileStatOf(args []byte, stat func(FileSystem, string) (unix.Stat_t, error)) (unix.Stat_t, error) {
	path, err := parseFilePath(args)
	if err != nil {
		return unix.Stat_t{}, err
	}
	fs, err := s.fileSystem()
	if err != nil {
		return unix.Stat_t{}, err
	}
	return stat(fs, path)
}

// fileStat replies with st as the protocol's struct stat.
func (s *Session) fileStat(st *unix.Stat_t) reply {
	var b [fioStatSize]byte
	return s.fileData(fioStatSize, appendFileStat(b[:0], st))
}

// vFileSize answers vFile:size:HEX-PATH with "F" and the size in hex.
func (s *Session) vFileSize(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Stat)
	if err != nil {
		return s.fileError("size", err)
	}
	return s.fileResult(st.Size)
}

// vFileMode answers vFile:mode:HEX-PATH with "F" and the mode bits in hex.
func (s *Session) vFileMode(args []byte) reply {
	st, err := s.vFileStatOf(args, FileSystem.Stat)
	if err != nil {
		return s.fileError("mode", err)
	}
	return s.fileResult(int64(st.Mode))
}

// vFileExists answers vFile:exists:HEX-PATH with "F,1" or "F,0".
func (s *Session) vFileExists(args []byte) reply {
	if _, err := s.vFileStatOf(args, FileSystem.Stat); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return textReply("F,0")
		}
		return s.fileError("exists", err)
	}
	return textReply("F,1")
}
