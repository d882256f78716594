//go:build linux

package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Debug Adapter Protocol end to end: the adapters IDEs use, driven as an
// IDE drives them, with procgdb as the stub. lldb-vscode (Debian's lldb
// ships it) attaches with gdb-remote; Eclipse's cdt-gdb-adapter (npm)
// connects gdb to procgdb with target remote. Each session goes through
// initialize, attach, setBreakpoints on a source line, configurationDone,
// the stopped event, stackTrace, scopes, variables, continue and the
// terminated event.

// dapTimeout bounds each wait for a DAP response or event.
const dapTimeout = 60 * time.Second

// dapMessage is a DAP request, response or event.
type dapMessage struct {
	Seq        int             `json:"seq"`
	Type       string          `json:"type"`
	Command    string          `json:"command,omitempty"`
	Event      string          `json:"event,omitempty"`
	RequestSeq int             `json:"request_seq,omitempty"`
	Success    bool            `json:"success,omitempty"`
	Message    string          `json:"message,omitempty"`
	Arguments  any             `json:"arguments,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
}

// dapClient talks to a debug adapter over its stdin and stdout with
// Content-Length framed JSON.
type dapClient struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	seq   int
	msgs  chan dapMessage
	done  chan struct{}
	mu    sync.Mutex
	log   strings.Builder // every message, for failures
	stash []dapMessage    // messages read while waiting for others
}

// startDAP starts an adapter and registers its clean-up.
func startDAP(t *testing.T, name string, argv ...string) *dapClient {
	t.Helper()
	c := &dapClient{t: t, name: name, msgs: make(chan dapMessage, 256), done: make(chan struct{})}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = debuggerEnv()
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.cmd.WaitDelay = time.Second
	stderr := newLineLog()
	c.cmd.Stderr = stderr
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go c.read(bufio.NewReader(out))
	t.Cleanup(func() {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		_ = c.cmd.Wait()
		if t.Failed() {
			c.mu.Lock()
			t.Logf("%s DAP messages:\n%s", name, c.log.String())
			c.mu.Unlock()
			t.Logf("%s stderr:\n%s", name, stderr)
		}
	})
	return c
}

// read decodes messages until the adapter's stdout ends.
func (c *dapClient) read(r *bufio.Reader) {
	defer close(c.done)
	for {
		length := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if length < 0 || length > 64<<20 {
			return
		}
		b := make([]byte, length)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		c.mu.Lock()
		fmt.Fprintf(&c.log, "<- %s\n", b)
		c.mu.Unlock()
		var m dapMessage
		if json.Unmarshal(b, &m) == nil {
			c.msgs <- m
		}
	}
}

// send writes a request and returns its seq.
func (c *dapClient) send(command string, args any) int {
	c.t.Helper()
	c.seq++
	b, err := json.Marshal(dapMessage{Seq: c.seq, Type: "request", Command: command, Arguments: args})
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	fmt.Fprintf(&c.log, "-> %s\n", b)
	c.mu.Unlock()
	if _, err := fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		c.t.Fatalf("%s: send %s: %v", c.name, command, err)
	}
	return c.seq
}

// next returns the first message, stashed or new, that match accepts.
func (c *dapClient) next(what string, match func(dapMessage) bool) dapMessage {
	c.t.Helper()
	for i, m := range c.stash {
		if match(m) {
			c.stash = append(c.stash[:i], c.stash[i+1:]...)
			return m
		}
	}
	timeout := time.After(dapTimeout)
	for {
		select {
		case m := <-c.msgs:
			if match(m) {
				return m
			}
			c.stash = append(c.stash, m)
		case <-c.done:
			// Drain what was read before the end.
			for {
				select {
				case m := <-c.msgs:
					if match(m) {
						return m
					}
					c.stash = append(c.stash, m)
					continue
				default:
				}
				break
			}
			c.t.Fatalf("%s: adapter exited while waiting for %s", c.name, what)
		case <-timeout:
			c.t.Fatalf("%s: no %s within %v", c.name, what, dapTimeout)
		}
	}
}

// request sends a request and waits for its successful response, whose body
// it decodes into body (when not nil).
func (c *dapClient) request(command string, args, body any) dapMessage {
	c.t.Helper()
	seq := c.send(command, args)
	m := c.next("response to "+command, func(m dapMessage) bool { return m.Type == "response" && m.RequestSeq == seq })
	if !m.Success {
		c.t.Fatalf("%s: %s failed: %s %s", c.name, command, m.Message, m.Body)
	}
	if body != nil && len(m.Body) > 0 {
		if err := json.Unmarshal(m.Body, body); err != nil {
			c.t.Fatalf("%s: %s response body %s: %v", c.name, command, m.Body, err)
		}
	}
	return m
}

// event waits for the named event and decodes its body into body.
func (c *dapClient) event(name string, body any) dapMessage {
	c.t.Helper()
	m := c.next("event "+name, func(m dapMessage) bool { return m.Type == "event" && m.Event == name })
	if body != nil && len(m.Body) > 0 {
		if err := json.Unmarshal(m.Body, body); err != nil {
			c.t.Fatalf("%s: event %s body %s: %v", c.name, name, m.Body, err)
		}
	}
	return m
}

// DAP bodies the tests read.
type (
	dapStopped struct {
		Reason   string `json:"reason"`
		ThreadID int    `json:"threadId"`
	}
	dapFrame struct {
		ID     int    `json:"id"`
		Name   string `json:"name"`
		Line   int    `json:"line"`
		Source *struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"source"`
	}
	dapVariable struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	dapScope struct {
		Name               string `json:"name"`
		VariablesReference int    `json:"variablesReference"`
	}
	dapBreakpoint struct {
		Verified bool `json:"verified"`
		Line     int  `json:"line"`
	}
)

// dapSession is what both adapters go through once attached: a breakpoint
// on square's first line, the stop there, the stack, the locals, and the
// run to the end.
func dapSession(t *testing.T, c *dapClient, prog string, attach func(), afterConfig func()) {
	t.Helper()
	c.request("initialize", map[string]any{
		"clientID": "procgdb-tests", "adapterID": c.name, "pathFormat": "path",
		"linesStartAt1": true, "columnsStartAt1": true, "supportsVariableType": true,
	}, nil)
	attach()
	c.event("initialized", nil)

	line := lineOf(t, "dual/dual.c", "square-body")
	var bps struct {
		Breakpoints []dapBreakpoint `json:"breakpoints"`
	}
	src := filepath.Join(suite.srcDir, "dual", "dual.c")
	c.request("setBreakpoints", map[string]any{
		"source":      map[string]any{"path": src, "name": "dual.c"},
		"breakpoints": []map[string]any{{"line": line}},
	}, &bps)
	if len(bps.Breakpoints) != 1 {
		t.Fatalf("setBreakpoints: %+v", bps)
	}
	c.request("configurationDone", map[string]any{}, nil)
	if afterConfig != nil {
		afterConfig()
	}

	var stop dapStopped
	c.event("stopped", &stop)
	if stop.Reason != "breakpoint" && stop.Reason != "function breakpoint" {
		t.Errorf("stopped: reason %q, want breakpoint", stop.Reason)
	}
	var st struct {
		StackFrames []dapFrame `json:"stackFrames"`
	}
	c.request("stackTrace", map[string]any{"threadId": stop.ThreadID, "startFrame": 0, "levels": 20}, &st)
	if len(st.StackFrames) < 2 || !strings.Contains(st.StackFrames[0].Name, "square") || st.StackFrames[0].Line != line ||
		!strings.Contains(st.StackFrames[1].Name, "main") {
		t.Fatalf("stackTrace: %+v, want square at line %d called by main", st.StackFrames, line)
	}
	var sc struct {
		Scopes []dapScope `json:"scopes"`
	}
	c.request("scopes", map[string]any{"frameId": st.StackFrames[0].ID}, &sc)
	found := false
	for _, s := range sc.Scopes {
		if s.VariablesReference == 0 || strings.Contains(strings.ToLower(s.Name), "regist") {
			continue
		}
		var vs struct {
			Variables []dapVariable `json:"variables"`
		}
		c.request("variables", map[string]any{"variablesReference": s.VariablesReference}, &vs)
		for _, v := range vs.Variables {
			if v.Name == "v" && v.Value == "7" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no variable v = 7 in the scopes %+v of square", sc.Scopes)
	}
	c.request("continue", map[string]any{"threadId": stop.ThreadID}, nil)
	c.event("terminated", nil)
}

// TestDAPLLDBVSCode drives lldb-vscode attaching to procgdb with
// gdb-remote.
func TestDAPLLDBVSCode(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "lldb's dialect")
	adapter := lldbVSCode(t)
	prog := needDual(t)
	s := startStub(t, stubOptions{prog: prog})
	c := startDAP(t, "lldb-vscode", adapter)
	dapSession(t, c, prog, func() {
		c.send("attach", map[string]any{
			"program":        prog,
			"attachCommands": []string{"gdb-remote " + s.target},
		})
	}, func() {
		// lldb-vscode reports the process stopped where procgdb
		// started it (a signal stop, which it calls an exception) and
		// leaves it there: continue it.
		c.next("response to attach", func(m dapMessage) bool { return m.Type == "response" && m.Command == "attach" })
		var entry dapStopped
		c.event("stopped", &entry)
		c.request("continue", map[string]any{"threadId": entry.ThreadID}, nil)
	})
	if err := s.waitExit(exitTimeout); err != nil {
		t.Errorf("procgdb: %v", err)
	}
}

// lldbVSCode finds Debian's lldb-vscode (or the newer lldb-dap).
func lldbVSCode(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"lldb-vscode", "lldb-vscode-14", "lldb-dap"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range []string{"/usr/lib/llvm-14/bin/lldb-vscode"} {
		if fileExists(p) {
			return p
		}
	}
	return needTool(t, "lldb-vscode")
}

// TestDAPCDTGDBAdapter drives Eclipse's cdt-gdb-adapter, which connects
// gdb to procgdb with target remote, in all-stop mode and, as Eclipse
// users choose with gdbNonStop, in non-stop mode.
func TestDAPCDTGDBAdapter(t *testing.T) {
	prepare(t)
	adapter := cdtGDBAdapter(t)
	prog := needDual(t)
	for _, nonStop := range []bool{false, true} {
		t.Run(map[bool]string{false: "all-stop", true: "non-stop"}[nonStop], func(t *testing.T) {
			s := startStub(t, stubOptions{prog: prog})
			host, port, _ := strings.Cut(s.target, ":")
			c := startDAP(t, "cdt-gdb-adapter", needTool(t, "node"), adapter)
			dapSession(t, c, prog, func() {
				c.send("attach", map[string]any{
					"program": prog,
					"gdb":     "gdb",
					"initCommands": []string{
						"set debuginfod enabled off",
					},
					"gdbNonStop": nonStop,
					"target":     map[string]any{"type": "remote", "host": host, "port": port},
				})
			}, func() {
				// The adapter resumes the program itself once
				// configuration is done.
				c.next("response to attach", func(m dapMessage) bool { return m.Type == "response" && m.Command == "attach" })
			})
		})
	}
}

// cdtGDBAdapter returns the path of cdt-gdb-adapter's target adapter,
// installing the npm package into a cache directory when it is missing
// (bounded in time). Outside CI the test is skipped when npm or the
// registry is unreachable.
func cdtGDBAdapter(t *testing.T) string {
	t.Helper()
	npm := needTool(t, "npm")
	needTool(t, "node")
	dir := os.Getenv("PROCGDB_TEST_NPM_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "procgdb-tests", "npm")
	}
	script := filepath.Join(dir, "node_modules", "cdt-gdb-adapter", "dist", "debugTargetAdapter.js")
	cdtInstall.Do(func() {
		if fileExists(script) {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			cdtInstallErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "cdt-gdb-adapter@1")
		out, err := cmd.CombinedOutput()
		if err != nil || !fileExists(script) {
			cdtInstallErr = fmt.Errorf("npm install cdt-gdb-adapter: %v\n%s", errors.Join(err, ctx.Err()), out)
		}
	})
	if cdtInstallErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(cdtInstallErr)
		}
		t.Skipf("cdt-gdb-adapter unavailable (npm registry unreachable?): %v", cdtInstallErr)
	}
	return script
}

var (
	cdtInstall    sync.Once
	cdtInstallErr error
)
