//go:build linux

package tests

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestInfoOS runs gdb's `info os` for every table the stub serves
// (qXfer:osdata:read), and finds in each what the test knows is there: the
// debugged process, its thread and its standard descriptors, the stub's
// listening socket (on the loopback interface for procgdb, every
// interface for gdbserver), CPU 0, the first kernel module where there are any.
func TestInfoOS(t *testing.T) {
	prepare(t)
	p := prog("basic")
	s := startStub(t, stubOptions{prog: p})
	port := strings.TrimPrefix(s.target, "127.0.0.1:")
	types := []string{"processes", "threads", "files", "sockets", "modules", "cpus", "procgroups", "shm", "semaphores", "msg"}
	cmds := []string{"info os", "info os types"}
	for _, typ := range types {
		cmds = append(cmds, "info os "+typ)
	}
	tr := s.gdb(append(cmds, "info os nosuch", "kill")...)

	for _, typ := range types {
		// The list of tables: Type and Description; "types" adds Title.
		tr.match("info os", `(?m)^Type\s+Description\s*$[\s\S]*^`+typ+`\s+\S`)
		tr.match("info os types", `(?m)^Type\s+Description\s+Title\s*$[\s\S]*^`+typ+`\s+\S`)
		tr.noMatch("info os "+typ, `Can not fetch data now|warning`)
	}
	pid := fmt.Sprint(s.pid)
	tr.match("info os processes", `(?m)^pid\s+user\s+command\s+cores\s*$[\s\S]*^`+pid+`\s+\S+\s+`+regexp.QuoteMeta(p)+`\s+\d`)
	tr.match("info os threads", `(?m)^pid\s+command\s+tid\s+core\s*$[\s\S]*^`+pid+`\s+basic\s+`+pid+`\s+\d`)
	tr.match("info os files", `(?m)^pid\s+command\s+file descriptor\s+name\s*$[\s\S]*^`+pid+`\s+basic\s+0\s+\S[\s\S]*^`+pid+`\s+basic\s+2\s+\S`)
	tr.match("info os sockets", `(?m)^local address\s+local port\s+remote address\s+remote port\s+state\s+user\s+family\s+protocol\s*$[\s\S]*^\S+\s+`+port+`\s+\S+\s+0\s+LISTEN\s+\S+\s+INET6?\s+STREAM`)
	tr.match("info os cpus", `(?m)^processor\s[\s\S]*^0\s`)
	tr.match("info os procgroups", `(?m)^pgid\s+leader command\s+pid\s+command line\s*$[\s\S]*^\d+\s+.*\s`+pid+`\s+`+regexp.QuoteMeta(p))
	if mods, err := os.ReadFile("/proc/modules"); err == nil && len(mods) > 0 {
		name := strings.Fields(string(mods))[0]
		tr.match("info os modules", `(?m)^name\s+size\s+num uses\s+dependencies\s+status\s+address\s*$[\s\S]*^`+regexp.QuoteMeta(name)+`\s+\d+`)
	} else {
		tr.match("info os modules", `^$`) // this machine has no kernel modules to list
	}
	// A type there is not: gdb asks whether it is the wrong one.
	tr.match("info os nosuch", `Empty data returned by target.  Wrong osdata type\?`)
}

// TestAvailableProcessesMI lists the processes as Eclipse's attach dialog
// does, through gdb/MI's -list-thread-groups --available (which reads the
// processes table), and the tables with -info-os.
func TestAvailableProcessesMI(t *testing.T) {
	prepare(t)
	p := prog("basic")
	s := startStub(t, stubOptions{prog: p})
	g := startMI(t, p)
	g.run("-target-select remote "+s.target, "connected")
	groups := g.run("-list-thread-groups --available", "done")
	want := fmt.Sprintf(`\{id="%d",type="process",description="%s",user="[^"]+",cores=\["\d+"\]\}`, s.pid, regexp.QuoteMeta(p))
	if !regexp.MustCompile(want).MatchString(groups) {
		t.Errorf("-list-thread-groups --available = %s\nwant an item matching %s", groups, want)
	}
	info := g.run("-info-os", "done")
	if !regexp.MustCompile(`\{col0="processes",col1="[^"]+",col2="Processes"\}`).MatchString(info) {
		t.Errorf("-info-os = %s", info)
	}
	g.run("-info-os threads", "done")
	g.run("kill", "done")
}
