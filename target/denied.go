package target

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Why an attach fails. The kernel answers PTRACE_SEIZE with EPERM for
// reasons as different as a process that has already exited, procgdb
// itself, a process another debugger holds, and a process of another user;
// /proc tells them apart, so that the person who named the process reads
// what is wrong with it rather than "operation not permitted".

// reasonError is an error explained in words: Error is the explanation,
// and Unwrap the errno the kernel gave.
type reasonError struct {
	reason string
	errno  error
}

func (e *reasonError) Error() string { return e.reason }
func (e *reasonError) Unwrap() error { return e.errno }

// taskStatus is what /proc/TID/status says about who may trace a task.
type taskStatus struct {
	state  byte // first letter of State: R, S, D, T, t, Z, X...
	tgid   int  // its process
	tracer int  // TracerPid; 0 when untraced
	uids   []int
}

// readTaskStatus reads /proc/TID/status.
func readTaskStatus(tid int) (taskStatus, error) {
	f, err := os.Open(procPath(tid, "status"))
	if err != nil {
		return taskStatus{}, err
	}
	defer f.Close()
	var st taskStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "State":
			st.state = fields[0][0]
		case "Tgid":
			st.tgid, _ = strconv.Atoi(fields[0])
		case "TracerPid":
			st.tracer, _ = strconv.Atoi(fields[0])
		case "Uid":
			for _, f := range fields {
				uid, _ := strconv.Atoi(f)
				st.uids = append(st.uids, uid)
			}
		}
	}
	return st, sc.Err()
}

// seizeError explains why thread tid of process pid could not be seized
// with err.
func seizeError(pid, tid int, err error) error {
	what := "it"
	if tid != pid {
		what = fmt.Sprintf("its thread %d", tid)
	}
	if errors.Is(err, unix.ESRCH) {
		return &reasonError{what + " has exited", err}
	}
	if !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("seize thread %d: %w", tid, cError(err))
	}
	st, serr := readTaskStatus(tid)
	switch {
	case serr != nil:
		return &reasonError{what + " has exited", err}
	case st.tgid == os.Getpid():
		return &reasonError{"it is this procgdb", err}
	case st.state == 'Z' || st.state == 'X':
		if tid == pid {
			return &reasonError{"it has exited, and is a zombie until its parent reaps it", err}
		}
		return &reasonError{what + " is exiting", err}
	case st.tracer != 0:
		// TracerPid is the tracing thread; name its process.
		tracer := st.tracer
		if ts, err := readTaskStatus(tracer); err == nil && ts.tgid > 0 {
			tracer = ts.tgid
		}
		return &reasonError{fmt.Sprintf("it is already being debugged or traced, by process %d%s", tracer, commOf(tracer)), err}
	}
	if reason := yamaReason(); reason != "" {
		return &reasonError{reason, err}
	}
	if uid := os.Getuid(); !hasCapSysPtrace() && slices.ContainsFunc(st.uids, func(u int) bool { return u != uid }) {
		return &reasonError{fmt.Sprintf("it runs as user %d, and procgdb, as user %d, may not trace it", st.uids[0], uid), err}
	}
	return &reasonError{"procgdb's user may not trace it (it may have gained privileges, or made itself undumpable)", err}
}

// commOf returns " (NAME)", the command name of process pid, or "".
func commOf(pid int) string {
	b, err := os.ReadFile(procPath(pid, "comm"))
	if err != nil {
		return ""
	}
	return " (" + strings.TrimSpace(string(b)) + ")"
}

// yamaReason says how the Yama security module forbids procgdb to attach
// to a process that is not its child, or "" when it does not.
func yamaReason() string {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return ""
	}
	scope, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	switch {
	case scope >= 3:
		return "kernel.yama.ptrace_scope is 3: no process may attach to another"
	case scope == 2 && !hasCapSysPtrace():
		return "kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may attach to another"
	case scope == 1 && !hasCapSysPtrace():
		return "kernel.yama.ptrace_scope is 1: only a process's ancestors may attach to it (or run procgdb with CAP_SYS_PTRACE)"
	}
	return ""
}
