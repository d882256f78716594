package target

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The operating system's tables that gdb's `info os TYPE` shows, and
// that Eclipse's attach dialog lists processes from (qXfer:osdata:read):
// processes, threads, open files, sockets, kernel modules, CPUs, process
// groups and System V IPC objects, read from /proc, under the types and
// column names gdbserver uses, which is what gdb and IDEs expect.
//
// A table is walked item by item and each item handed to a function,
// which may end the walk: the caller bounds the work and the memory a
// table takes on a machine with many processes. Each value read from a
// file is bounded too (a command line, a line of /proc/cpuinfo).

// OSDataType describes one table.
type OSDataType struct {
	Type        string // what `info os TYPE` names
	Title       string // a short title, as MI's -info-os shows it
	Description string // what `info os` shows
}

// OSItemFunc receives one item of a table: its column names and values,
// in the same order. It returns false to end the walk. The slices are
// valid only during the call.
type OSItemFunc func(columns, values []string) bool

// ErrUnknownOSData is returned for a table type OSDataTypes does not list.
var ErrUnknownOSData = errors.New("no such table")

// osTable is one table and the function that walks it.
type osTable struct {
	OSDataType
	walk func(w *osWalker, item OSItemFunc) error
}

// osTables lists the tables by type.
var osTables = []osTable{
	{OSDataType{"cpus", "CPUs", "CPUs and cores, as /proc/cpuinfo describes them"}, (*osWalker).cpus},
	{OSDataType{"files", "File descriptors", "Open file descriptors of every process"}, (*osWalker).files},
	{OSDataType{"modules", "Kernel modules", "Loaded kernel modules"}, (*osWalker).modules},
	{OSDataType{"msg", "Message queues", "System V message queues"}, (*osWalker).msg},
	{OSDataType{"processes", "Processes", "Every process"}, (*osWalker).processes},
	{OSDataType{"procgroups", "Process groups", "Processes by process group"}, (*osWalker).procgroups},
	{OSDataType{"semaphores", "Semaphores", "System V semaphore sets"}, (*osWalker).semaphores},
	{OSDataType{"shm", "Shared-memory regions", "System V shared-memory segments"}, (*osWalker).shm},
	{OSDataType{"sockets", "Sockets", "Internet-domain sockets (TCP and UDP, IPv4 and IPv6)"}, (*osWalker).sockets},
	{OSDataType{"threads", "Threads", "Every thread of every process"}, (*osWalker).threads},
}

// OSDataTypes lists the tables OSData serves.
func OSDataTypes() []OSDataType {
	types := make([]OSDataType, len(osTables))
	for i, t := range osTables {
		types[i] = t.OSDataType
	}
	return types
}

// OSData walks the table typ of this machine, as procgdb sees it (its
// /proc, its network namespace), calling item for each item until it
// returns false. Processes that exit during the walk, and files that
// cannot be read for lack of permission, are left out.
func OSData(typ string, item OSItemFunc) error {
	return newOSWalker("/proc").walk(typ, item)
}

// Bounds on what one value may take.
const (
	maxCmdline  = 4096    // bytes of a command line shown
	maxProcLine = 1 << 16 // bytes of a line of a /proc table
)

// osWalker reads the tables from a /proc file system, and remembers the
// user and group names it looked up during one walk.
type osWalker struct {
	proc   string
	users  map[string]string
	groups map[string]string
}

func newOSWalker(proc string) *osWalker {
	return &osWalker{proc: proc, users: map[string]string{}, groups: map[string]string{}}
}

func (w *osWalker) walk(typ string, item OSItemFunc) error {
	for _, t := range osTables {
		if t.Type == typ {
			return t.walk(w, item)
		}
	}
	return fmt.Errorf("%q: %w", typ, ErrUnknownOSData)
}

func (w *osWalker) path(parts ...string) string {
	return filepath.Join(append([]string{w.proc}, parts...)...)
}

// numericEntries returns the entries of dir named by a number (processes,
// threads, file descriptors), ascending.
func numericEntries(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(ents))
	for _, e := range ents {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// pids lists the processes.
func (w *osWalker) pids() ([]int, error) {
	pids, err := numericEntries(w.proc)
	if err != nil {
		return nil, fmt.Errorf("processes: %w", err)
	}
	return pids, nil
}

// readBounded reads at most max bytes of the file at path.
func readBounded(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)))
}

// stat returns the command name (comm) and the fields after it of a
// process's or thread's stat line; rest[0] is field 3, the state.
func (w *osWalker) stat(dir ...string) (comm string, rest []string, ok bool) {
	b, err := readBounded(filepath.Join(w.path(dir...), "stat"), maxProcLine)
	if err != nil {
		return "", nil, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", nil, false
	}
	return string(b[open+1 : end]), strings.Fields(string(b[end+1:])), true
}

// comm returns a process's command name, or "" when it is gone.
func (w *osWalker) comm(pid string) string {
	comm, _, _ := w.stat(pid)
	return comm
}

// commandLine returns a process's arguments joined by spaces, or its
// command name in brackets for a process without arguments (a kernel
// thread), as ps shows them.
func (w *osWalker) commandLine(pid string) string {
	b, err := readBounded(w.path(pid, "cmdline"), maxCmdline)
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return "[" + w.comm(pid) + "]"
	}
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// owner returns the name of the user owning a process's /proc directory.
func (w *osWalker) owner(pid string) string {
	fi, err := os.Stat(w.path(pid))
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return w.user(strconv.FormatUint(uint64(st.Uid), 10))
}

// user returns the name of user id uid, or the number when it has none.
func (w *osWalker) user(uid string) string {
	name, ok := w.users[uid]
	if !ok {
		name = uid
		if u, err := user.LookupId(uid); err == nil {
			name = u.Username
		}
		w.users[uid] = name
	}
	return name
}

// group returns the name of group id gid, or the number when it has none.
func (w *osWalker) group(gid string) string {
	name, ok := w.groups[gid]
	if !ok {
		name = gid
		if g, err := user.LookupGroupId(gid); err == nil {
			name = g.Name
		}
		w.groups[gid] = name
	}
	return name
}

// threadCores returns, for each thread of a process, the CPU it last ran
// on, or -1.
func (w *osWalker) threadCores(pid string) (tids, cores []int) {
	tids, _ = numericEntries(w.path(pid, "task"))
	cores = make([]int, len(tids))
	for i, tid := range tids {
		cores[i] = -1
		if b, err := readBounded(w.path(pid, "task", strconv.Itoa(tid), "stat"), maxProcLine); err == nil {
			cores[i] = statCPU(b)
		}
	}
	return tids, cores
}

var processColumns = []string{"pid", "user", "command", "cores"}

// processes: every process, its owner, command line and the CPUs its
// threads last ran on.
func (w *osWalker) processes(item OSItemFunc) error {
	pids, err := w.pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		p := strconv.Itoa(pid)
		user := w.owner(p)
		if user == "" {
			continue // gone
		}
		_, cores := w.threadCores(p)
		var used []int
		for _, c := range cores {
			if c >= 0 && !slices.Contains(used, c) {
				used = append(used, c)
			}
		}
		slices.Sort(used)
		list := make([]string, len(used))
		for i, c := range used {
			list[i] = strconv.Itoa(c)
		}
		if !item(processColumns, []string{p, user, w.commandLine(p), strings.Join(list, ",")}) {
			return nil
		}
	}
	return nil
}

var threadColumns = []string{"pid", "command", "tid", "core"}

// threads: every thread of every process, with the CPU it last ran on.
func (w *osWalker) threads(item OSItemFunc) error {
	pids, err := w.pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		p := strconv.Itoa(pid)
		comm := w.comm(p)
		tids, cores := w.threadCores(p)
		for i, tid := range tids {
			if !item(threadColumns, []string{p, comm, strconv.Itoa(tid), strconv.Itoa(cores[i])}) {
				return nil
			}
		}
	}
	return nil
}

var fileColumns = []string{"pid", "command", "file descriptor", "name"}

// files: every open file descriptor of every process procgdb may look
// into, with what it refers to.
func (w *osWalker) files(item OSItemFunc) error {
	pids, err := w.pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		p := strconv.Itoa(pid)
		fds, err := numericEntries(w.path(p, "fd"))
		if err != nil {
			continue // gone, or not ours to look at
		}
		comm := w.comm(p)
		for _, fd := range fds {
			n := strconv.Itoa(fd)
			name, err := os.Readlink(w.path(p, "fd", n))
			if err != nil {
				name = n
			}
			if !item(fileColumns, []string{p, comm, n, name}) {
				return nil
			}
		}
	}
	return nil
}

var procgroupColumns = []string{"pgid", "leader command", "pid", "command line"}

// procgroups: every process by process group, each group's leader first.
func (w *osWalker) procgroups(item OSItemFunc) error {
	pids, err := w.pids()
	if err != nil {
		return err
	}
	type member struct{ pgid, pid int }
	var members []member
	for _, pid := range pids {
		if _, rest, ok := w.stat(strconv.Itoa(pid)); ok && len(rest) > 2 {
			if pgid, err := strconv.Atoi(rest[2]); err == nil && pgid > 0 {
				members = append(members, member{pgid, pid})
			}
		}
	}
	slices.SortFunc(members, func(a, b member) int {
		switch {
		case a.pgid != b.pgid:
			return cmp.Compare(a.pgid, b.pgid)
		case a.pid == b.pid:
			return 0
		case a.pid == a.pgid: // the leader, whose pid is the pgid
			return -1
		case b.pid == b.pgid:
			return 1
		}
		return cmp.Compare(a.pid, b.pid)
	})
	for _, m := range members {
		g, p := strconv.Itoa(m.pgid), strconv.Itoa(m.pid)
		if !item(procgroupColumns, []string{g, w.comm(g), p, w.commandLine(p)}) {
			return nil
		}
	}
	return nil
}

// lines calls fn with each line of the /proc table at path (without its
// newline), skipping lines longer than maxProcLine, until fn returns
// false. A table that does not exist (no modules, no IPv6) has no lines.
func (w *osWalker) lines(path string, fn func(line string) bool) error {
	f, err := os.Open(w.path(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, maxProcLine)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long to be a line of these tables: skip the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			continue
		}
		if len(line) > 0 && !fn(strings.TrimSuffix(string(line), "\n")) {
			return nil
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// cpuColumnsCap is room for the keys of one processor of /proc/cpuinfo.
const cpuColumnsCap = 32

// cpus: one item per processor of /proc/cpuinfo, whose columns are the
// file's keys (they vary between machines and kernels).
func (w *osWalker) cpus(item OSItemFunc) error {
	cols := make([]string, 0, cpuColumnsCap)
	vals := make([]string, 0, cpuColumnsCap)
	more := true
	err := w.lines("cpuinfo", func(line string) bool {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return true
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "processor" && len(cols) > 0 {
			if more = item(cols, vals); !more {
				return false
			}
			cols, vals = cols[:0], vals[:0]
		}
		cols, vals = append(cols, key), append(vals, val)
		return true
	})
	if err == nil && more && len(cols) > 0 {
		item(cols, vals)
	}
	return err
}

var moduleColumns = []string{"name", "size", "num uses", "dependencies", "status", "address"}

// modules: the loaded kernel modules, from /proc/modules.
func (w *osWalker) modules(item OSItemFunc) error {
	return w.lines("modules", func(line string) bool {
		f := strings.Fields(line)
		if len(f) < 6 {
			return true
		}
		return item(moduleColumns, []string{f[0], f[1], f[2], f[3], f[4], strings.TrimPrefix(f[5], "0x")})
	})
}

var socketColumns = []string{"local address", "local port", "remote address", "remote port", "state", "user", "family", "protocol"}

// tcpStates names the states of /proc/net/tcp's st column (the kernel's
// include/net/tcp_states.h); UDP sockets use the same numbers.
var tcpStates = []string{1: "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}

// sockets: the TCP and UDP sockets of procgdb's network namespace.
func (w *osWalker) sockets(item OSItemFunc) error {
	for _, t := range []struct{ file, family, protocol string }{
		{"net/tcp", "INET", "STREAM"},
		{"net/udp", "INET", "DGRAM"},
		{"net/tcp6", "INET6", "STREAM"},
		{"net/udp6", "INET6", "DGRAM"},
	} {
		more := true
		err := w.lines(t.file, func(line string) bool {
			f := strings.Fields(line)
			if len(f) < 8 || f[0] == "sl" {
				return true // the heading
			}
			laddr, lport, ok1 := socketAddr(f[1])
			raddr, rport, ok2 := socketAddr(f[2])
			st, err := strconv.ParseUint(f[3], 16, 8)
			if !ok1 || !ok2 || err != nil {
				return true
			}
			state := "(unknown)"
			if int(st) < len(tcpStates) && tcpStates[st] != "" {
				state = tcpStates[st]
			}
			more = item(socketColumns, []string{laddr, lport, raddr, rport, state, w.user(f[7]), t.family, t.protocol})
			return more
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// socketAddr decodes an address of /proc/net/tcp and the like: ADDR:PORT
// in hex, where ADDR is the 4 or 16 bytes of the address as 32-bit words
// in the machine's (little-endian) byte order.
func socketAddr(s string) (addr, port string, ok bool) {
	a, p, found := strings.Cut(s, ":")
	b, err := hex.DecodeString(a)
	n, perr := strconv.ParseUint(p, 16, 16)
	if !found || err != nil || perr != nil || (len(b) != 4 && len(b) != 16) {
		return "", "", false
	}
	for i := 0; i < len(b); i += 4 {
		slices.Reverse(b[i : i+4])
	}
	ip, _ := netip.AddrFromSlice(b)
	return ip.String(), strconv.FormatUint(n, 10), true
}

// ipcColumn is a column of a System V IPC table and the field of the
// /proc/sysvipc file it shows, by the name in the file's heading.
type ipcColumn struct {
	name, field string
	show        func(w *osWalker, v string) string
}

func asIs(_ *osWalker, v string) string      { return v }
func userName(w *osWalker, v string) string  { return w.user(v) }
func groupName(w *osWalker, v string) string { return w.group(v) }
func pidComm(w *osWalker, v string) string   { return w.comm(v) }

// ipcTime shows a time in seconds since the epoch as ctime does, or ""
// for never.
func ipcTime(_ *osWalker, v string) string {
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil || s == 0 {
		return ""
	}
	return time.Unix(s, 0).Format(time.ANSIC)
}

// ipcTable walks a /proc/sysvipc file, whose first line names its fields.
func (w *osWalker) ipcTable(file string, cols []ipcColumn, item OSItemFunc) error {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	var index []int // position of each column's field in a line
	return w.lines(file, func(line string) bool {
		f := strings.Fields(line)
		if index == nil {
			index = make([]int, len(cols))
			for i, c := range cols {
				index[i] = slices.Index(f, c.field)
			}
			return true
		}
		vals := make([]string, len(cols))
		for i, c := range cols {
			if j := index[i]; j >= 0 && j < len(f) {
				vals[i] = c.show(w, f[j])
			}
		}
		return item(names, vals)
	})
}

// ipcOwners are the columns every System V IPC table ends with.
var ipcOwners = []ipcColumn{
	{"user", "uid", userName}, {"group", "gid", groupName},
	{"creator user", "cuid", userName}, {"creator group", "cgid", groupName},
}

var shmColumns = slices.Concat([]ipcColumn{
	{"key", "key", asIs}, {"shmid", "shmid", asIs}, {"permissions", "perms", asIs}, {"size", "size", asIs},
	{"creator command", "cpid", pidComm}, {"last op. command", "lpid", pidComm}, {"num attached", "nattch", asIs},
}, ipcOwners, []ipcColumn{
	{"last shmat() time", "atime", ipcTime}, {"last shmdt() time", "dtime", ipcTime}, {"last shmctl() time", "ctime", ipcTime},
})

var semColumns = slices.Concat([]ipcColumn{
	{"key", "key", asIs}, {"semid", "semid", asIs}, {"permissions", "perms", asIs}, {"num semaphores", "nsems", asIs},
}, ipcOwners, []ipcColumn{
	{"last semop() time", "otime", ipcTime}, {"last semctl() time", "ctime", ipcTime},
})

var msgColumns = slices.Concat([]ipcColumn{
	{"key", "key", asIs}, {"msqid", "msqid", asIs}, {"permissions", "perms", asIs},
	{"num used bytes", "cbytes", asIs}, {"num messages", "qnum", asIs},
	{"last msgsnd() command", "lspid", pidComm}, {"last msgrcv() command", "lrpid", pidComm},
}, ipcOwners, []ipcColumn{
	{"last msgsnd() time", "stime", ipcTime}, {"last msgrcv() time", "rtime", ipcTime}, {"last msgctl() time", "ctime", ipcTime},
})

func (w *osWalker) shm(item OSItemFunc) error {
	return w.ipcTable("sysvipc/shm", shmColumns, item)
}

func (w *osWalker) semaphores(item OSItemFunc) error {
	return w.ipcTable("sysvipc/sem", semColumns, item)
}

func (w *osWalker) msg(item OSItemFunc) error {
	return w.ipcTable("sysvipc/msg", msgColumns, item)
}
