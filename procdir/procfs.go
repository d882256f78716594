//go:build linux

package procdir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// yamaPath holds Yama's ptrace_scope where the kernel has Yama.
const yamaPath = "/proc/sys/kernel/yama/ptrace_scope"

// maxAncestors bounds the walk up a process's parents.
const maxAncestors = 4096

// status is what the access check reads from /proc/PID/status.
type status struct {
	uid, gid       IDs
	capPrm, capEff Caps
	groups         []uint32 // supplementary groups
}

// parseStatus reads the Uid, Gid, CapPrm, CapEff and Groups lines of
// /proc/PID/status (Groups may be missing, as no Linux omits it but
// nothing here depends on it).
func parseStatus(b []byte) (status, error) {
	var st status
	const want = 4
	seen := 0
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var err error
		switch string(key) {
		case "Uid":
			st.uid, err = parseIDs(val)
		case "Gid":
			st.gid, err = parseIDs(val)
		case "CapPrm":
			st.capPrm, err = parseCaps(val)
		case "CapEff":
			st.capEff, err = parseCaps(val)
		case "Groups":
			st.groups, err = parseGroups(val)
			if err != nil {
				return st, fmt.Errorf("%s line: %w", key, err)
			}
			continue
		default:
			continue
		}
		if err != nil {
			return st, fmt.Errorf("%s line: %w", key, err)
		}
		seen++
	}
	if seen != want {
		return st, fmt.Errorf("%d of the Uid, Gid, CapPrm and CapEff lines", seen)
	}
	return st, nil
}

// parseIDs reads "real effective saved filesystem".
func parseIDs(val []byte) (IDs, error) {
	f := strings.Fields(string(val))
	if len(f) != 4 {
		return IDs{}, fmt.Errorf("%q: not four ids", val)
	}
	var n [3]uint32
	for i := range n {
		v, err := strconv.ParseUint(f[i], 10, 32)
		if err != nil {
			return IDs{}, err
		}
		n[i] = uint32(v)
	}
	return IDs{Real: n[0], Effective: n[1], Saved: n[2]}, nil
}

// parseGroups reads a list of group ids separated by blanks.
func parseGroups(val []byte) ([]uint32, error) {
	var gs []uint32
	for _, f := range strings.Fields(string(val)) {
		v, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, err
		}
		gs = append(gs, uint32(v))
	}
	return gs, nil
}

func parseCaps(val []byte) (Caps, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(string(val)), 16, 64)
	return Caps(v), err
}

// stat is what the watcher and the access check read from
// /proc/PID/stat.
type stat struct {
	ppid  int
	flags uint64
}

// parseStat reads the ppid and flags fields of /proc/PID/stat. The
// command name, in parentheses, may hold anything, parentheses and
// spaces included: the fields start after its last ')'.
func parseStat(b []byte) (stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errors.New("no ')' after the command name")
	}
	// state ppid pgrp session tty_nr tpgid flags
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 7 {
		return stat{}, fmt.Errorf("%d fields after the command name", len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return stat{}, fmt.Errorf("ppid: %w", err)
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("flags: %w", err)
	}
	return stat{ppid: ppid, flags: flags}, nil
}

func procPath(pid int, name string) string { return "/proc/" + strconv.Itoa(pid) + "/" + name }

// readStat reads /proc/PID/stat and the owner /proc gives it: the
// process's effective ids, or its user namespace's root once it is not
// dumpable (the kernel's task_dump_owner; /proc/PID itself keeps the
// effective ids whatever the flag).
func readStat(pid int) (stat, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := os.Open(procPath(pid, "stat"))
	if err != nil {
		return stat{}, st, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return stat{}, st, fmt.Errorf("fstat %s: %w", f.Name(), err)
	}
	var buf [1024]byte
	n, err := f.Read(buf[:])
	if err != nil {
		return stat{}, st, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	s, err := parseStat(buf[:n])
	if err != nil {
		return s, st, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return s, st, nil
}

func readStatus(pid int) (status, error) {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return status{}, err
	}
	st, err := parseStatus(b)
	if err != nil {
		return st, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return st, nil
}

// ReadPeer reads from /proc what Check needs to know of the debugger
// process pid. The caller makes sure pid still names the process that
// connected (see Conn.Check).
func ReadPeer(pid int) (Peer, error) {
	st, err := readStatus(pid)
	if err != nil {
		return Peer{}, err
	}
	return peerOf(pid, st)
}

// peerOf completes the peer whose status st is.
func peerOf(pid int, st status) (Peer, error) {
	ns, err := userNS(pid)
	if err != nil {
		return Peer{}, err
	}
	return Peer{
		PID: pid, UID: st.uid.Real, GID: st.gid.Real, EUID: st.uid.Effective,
		CapEff: st.capEff, CapPrm: st.capPrm, UserNS: ns[0].Inode,
	}, nil
}

// ReadTarget reads from /proc what Check needs to know of process pid.
//
// /proc shows no dumpable flag, but it shows its effect: a non-dumpable
// process's /proc files belong to its user namespace's root instead of
// its effective ids. That tells the flag apart except for a process whose
// effective ids are that root's (DumpableUnknown).
func ReadTarget(pid int) (Target, error) {
	s, owner, err := readStat(pid)
	if err != nil {
		return Target{}, err
	}
	st, err := readStatus(pid)
	if err != nil {
		return Target{}, err
	}
	t := Target{PID: pid, Kernel: s.flags&pfKthread != 0, UID: st.uid, GID: st.gid, CapPrm: st.capPrm}
	if t.Kernel {
		return t, nil
	}
	t.Dumpable = DumpableYes
	if owner.Uid != st.uid.Effective || owner.Gid != st.gid.Effective {
		t.Dumpable = DumpableNo
	} else if root, err := isNSRoot(pid, st.uid.Effective, st.gid.Effective); err != nil {
		return t, err
	} else if root {
		t.Dumpable = DumpableUnknown
	}
	if t.UserNS, err = userNS(pid); err != nil {
		return t, err
	}
	t.Ancestors, err = ancestors(s.ppid)
	return t, err
}

// isNSRoot tells whether uid and gid are what the root of process pid's
// user namespace maps to, as this process sees them.
func isNSRoot(pid int, uid, gid uint32) (bool, error) {
	for _, m := range []struct {
		file string
		id   uint32
	}{{"uid_map", uid}, {"gid_map", gid}} {
		b, err := os.ReadFile(procPath(pid, m.file))
		if err != nil {
			return false, err
		}
		if root, ok := mapRoot(b); !ok || root != m.id {
			return false, nil
		}
	}
	return true, nil
}

// mapRoot finds what id 0 inside a namespace is outside it, in the
// lines "inside outside count" of /proc/PID/uid_map or gid_map.
func mapRoot(b []byte) (uint32, bool) {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "0" {
			v, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(v), err == nil
		}
	}
	return 0, false
}

// userNS returns process pid's user namespace and its ancestors up to the
// last one this process may see (NS_GET_PARENT fails with EPERM above
// it), each with its owner.
func userNS(pid int) ([]UserNS, error) {
	fd, err := unix.Open(procPath(pid, "ns/user"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: procPath(pid, "ns/user"), Err: err}
	}
	var chain []UserNS
	for {
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		var owner uint32
		if err == nil {
			owner, err = unix.IoctlGetUint32(fd, unix.NS_GET_OWNER_UID)
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("user namespace of %d: %w", pid, err)
		}
		chain = append(chain, UserNS{Inode: st.Ino, Owner: owner})
		parent, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		unix.Close(fd)
		if err != nil {
			return chain, nil
		}
		fd = parent
	}
}

// ancestors returns ppid, its parent, and so on up to the first process.
func ancestors(ppid int) ([]int, error) {
	var a []int
	for ppid > 0 && len(a) < maxAncestors {
		a = append(a, ppid)
		s, _, err := readStat(ppid)
		if errors.Is(err, os.ErrNotExist) {
			break // it exited: its children now have another parent
		}
		if err != nil {
			return a, err
		}
		ppid = s.ppid
	}
	return a, nil
}

// ReadYama reads Yama's ptrace_scope, or YamaAbsent where the kernel has
// no Yama.
func ReadYama() (Yama, error) {
	b, err := os.ReadFile(yamaPath)
	if errors.Is(err, os.ErrNotExist) {
		return YamaAbsent, nil
	}
	if err != nil {
		return YamaAbsent, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return YamaAbsent, fmt.Errorf("%s: %q", yamaPath, b)
	}
	return Yama(n), nil
}
