package target

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ProcessReport describes a debugged process for a status report
// (procgdb's `monitor info`).
type ProcessReport struct {
	PID      int
	Attached bool   // attached to, rather than started
	Exe      string // its executable, "" when unknown
	Threads  []ThreadReport
}

// ThreadReport describes one thread of a ProcessReport.
type ThreadReport struct {
	TID  int
	Name string // its comm
	// Running: not in a tracing stop.
	Running bool
	// State is the kernel's word for what the thread does now, from
	// /proc: "tracing stop", "sleeping", "running", ...
	State string
}

// Report describes the tracer's processes and their threads, from /proc.
// Unlike the Ctl's methods it may be called from any goroutine, while the
// processes run too: it reads what the loop publishes (publish), not the
// loop's own state, so that a client's monitor info never waits for
// another client's tracer.
func (t *Tracer) Report() []ProcessReport {
	t.pubMu.Lock()
	ps := slices.Clone(t.pub)
	t.pubMu.Unlock()
	for i := range ps {
		p := &ps[i]
		p.Exe, _ = execFile(p.PID)
		tids, _ := listTasks(p.PID)
		for _, tid := range tids {
			th := ThreadReport{TID: tid, State: kernelThreadState(p.PID, tid)}
			th.Name, _ = threadName(p.PID, tid)
			th.Running = th.State != "tracing stop"
			p.Threads = append(p.Threads, th)
		}
	}
	return ps
}

// publish makes Report see the processes the client sees. Must run on
// the loop, after every change of which processes those are.
func (t *Tracer) publish() {
	var ps []ProcessReport
	for _, p := range t.procList() {
		if !p.unreported {
			ps = append(ps, ProcessReport{PID: p.pid, Attached: p.attached})
		}
	}
	t.pubMu.Lock()
	t.pub = ps
	t.pubMu.Unlock()
}

// kernelThreadState returns the kernel's word for the state of a thread, from
// field 3 of its stat file; "gone" when it has none.
func kernelThreadState(pid, tid int) string {
	stat, err := os.ReadFile(procPath(pid, "task", strconv.Itoa(tid), "stat"))
	i := bytes.LastIndexByte(stat, ')')
	if err != nil || i < 0 || i+2 >= len(stat) {
		return "gone"
	}
	switch c := stat[i+2]; c {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "waiting (uninterruptible)"
	case 'T':
		return "stopped"
	case 't':
		return "tracing stop"
	case 'Z':
		return "zombie"
	case 'X':
		return "dead"
	default:
		return fmt.Sprintf("state %c", c)
	}
}

// PtraceRestrictions describes what limits ptrace on this machine beyond
// the usual same-user rule: Yama's ptrace_scope, and whether this
// process has CAP_SYS_PTRACE, which lifts the limits.
func PtraceRestrictions() string {
	var yama string
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	switch scope := strings.TrimSpace(string(b)); {
	case err != nil:
		yama = "no Yama ptrace_scope: any process of the same user may be traced"
	case scope == "0":
		yama = "Yama ptrace_scope 0: any process of the same user may be traced"
	case scope == "1":
		yama = "Yama ptrace_scope 1: only descendants may be traced (started, not attached to), unless with CAP_SYS_PTRACE"
	case scope == "2":
		yama = "Yama ptrace_scope 2: tracing needs CAP_SYS_PTRACE"
	case scope == "3":
		yama = "Yama ptrace_scope 3: no process may be traced"
	default:
		yama = "Yama ptrace_scope " + scope
	}
	if hasCapSysPtrace() {
		return yama + "; procgdb has CAP_SYS_PTRACE"
	}
	return yama + "; procgdb lacks CAP_SYS_PTRACE"
}

// capSysPtrace is the bit of CAP_SYS_PTRACE in a capability set.
const capSysPtrace = 19

// hasCapSysPtrace reports whether this process's effective capabilities
// include CAP_SYS_PTRACE.
func hasCapSysPtrace() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<capSysPtrace) != 0
		}
	}
	return false
}
