package target

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Readers of /proc, the kernel's view of a process. None needs ptrace.

func procPath(pid int, parts ...string) string {
	return filepath.Join(append([]string{"/proc", strconv.Itoa(pid)}, parts...)...)
}

// readAuxv returns the process's auxiliary vector.
func readAuxv(pid int) ([]byte, error) {
	b, err := os.ReadFile(procPath(pid, "auxv"))
	if err != nil {
		return nil, fmt.Errorf("auxv of %d: %w", pid, err)
	}
	return b, nil
}

// execFile returns the path of the process's executable.
func execFile(pid int) (string, error) {
	p, err := os.Readlink(procPath(pid, "exe"))
	if err != nil {
		return "", fmt.Errorf("executable of %d: %w", pid, err)
	}
	return p, nil
}

// listTasks returns the thread ids of a process, ascending.
func listTasks(pid int) ([]int, error) {
	tids, err := numericEntries(procPath(pid, "task"))
	if err != nil {
		return nil, fmt.Errorf("threads of %d: %w", pid, err)
	}
	return tids, nil
}

// taskPaths returns where /proc may show file of thread tid of process
// pid: under the process, and, for a task made with a raw clone that is
// a thread group of its own (CLONE_VM without CLONE_THREAD), which the
// tracer counts among its creator's threads, under the task itself.
func taskPaths(pid, tid int, file string) [2]string {
	t := strconv.Itoa(tid)
	return [2]string{procPath(pid, "task", t, file), procPath(tid, "task", t, file)}
}

// threadName returns a thread's comm.
func threadName(pid, tid int) (string, bool) {
	for _, path := range taskPaths(pid, tid, "comm") {
		if comm, err := os.ReadFile(path); err == nil {
			return strings.TrimSuffix(string(comm), "\n"), true
		}
	}
	return "", false
}

// Auxv returns the auxiliary vector of process pid.
func (c *Ctl) Auxv(pid int) ([]byte, error) { return readAuxv(c.t.procID(pid)) }

// ExecFile returns the path of the executable of process pid.
func (c *Ctl) ExecFile(pid int) (string, error) { return execFile(c.t.procID(pid)) }

// procID returns the id under which /proc shows process pid's memory,
// executable and auxiliary vector: pid itself, or, once its leader is
// gone (a zombie has none of them), the thread its memory is reached
// through.
func (t *Tracer) procID(pid int) int {
	if p := t.procs[pid]; p != nil {
		return p.mem.pid
	}
	return pid
}

// ThreadInfo returns the name and last CPU of a thread (-1 when unknown).
func (c *Ctl) ThreadInfo(pid, tid int) (name string, core int, ok bool) {
	name, ok = threadName(pid, tid)
	if !ok {
		return "", 0, false
	}
	if core, ok = c.t.cores.core(pid, tid); !ok {
		core = -1
	}
	return name, core, true
}
