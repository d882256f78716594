//go:build linux

package tests

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/rsp/client"
)

// End-to-end tests of package rsp/client, the typed client, against the
// stub under test (procgdb, or gdbserver with PROCGDB_TEST_STUB=gdbserver)
// and, where its package documentation says it works, lldb-server.

// clientCtx returns a context that bounds one test's client calls.
func clientCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), gdbTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dialClient connects the typed client to the stub, with the options of d
// (nil for none).
func dialClient(t *testing.T, s *stub, d *client.Dialer) *client.Client {
	t.Helper()
	if d == nil {
		d = &client.Dialer{}
	}
	network := "tcp"
	if strings.HasPrefix(s.opts.comm, "unix:") {
		network = "unix"
	}
	var c *client.Client
	dialRetry(t, s.target, func(ctx context.Context) (err error) {
		c, err = d.Dial(ctx, network, s.target)
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// symbolAddr returns the run-time address of symbol name of program file,
// which the process of c's selected thread runs.
func symbolAddr(t *testing.T, c *client.Client, file, name string) uint64 {
	t.Helper()
	value, _ := elfSymbol(t, file, name, elf.STT_NOTYPE)
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bias, err := c.LoadBias(f.Entry)
	if err != nil {
		t.Fatal(err)
	}
	return value + bias
}

// elfSymbol returns the value of symbol name of ELF file path (a function
// only, when typ is STT_FUNC) and the file's type. It fails the test when
// there is none.
func elfSymbol(t *testing.T, path, name string, typ elf.SymType) (uint64, elf.Type) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, s := range syms {
		if s.Name == name && (typ == elf.STT_NOTYPE || elf.ST_TYPE(s.Info) == typ) {
			return s.Value, f.Type
		}
	}
	t.Fatalf("%s has no symbol %s", path, name)
	return 0, 0
}

// expect returns a function that fails the test unless the stop and the
// error it is given are a stop of kind k, and returns the stop:
// expect(t, "continue to add", client.StopBreakpoint)(c.Continue(ctx)).
func expect(t *testing.T, what string, k client.StopKind) func(client.Stop, error) client.Stop {
	return func(s client.Stop, err error) client.Stop {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if s.Kind != k {
			t.Fatalf("%s: stopped with %v (kind %d), want kind %d", what, s, s.Kind, k)
		}
		return s
	}
}

// runTo sets a breakpoint at function name of program file and continues
// to it.
func runTo(t *testing.T, ctx context.Context, c *client.Client, file, name string) (client.Stop, *client.Breakpoint) {
	t.Helper()
	bp, err := c.SetBreakpoint(symbolAddr(t, c, file, name))
	if err != nil {
		t.Fatal(err)
	}
	return expect(t, "continue to "+name, client.StopBreakpoint)(c.Continue(ctx)), bp
}

// mustRegister reads a register as a number.
func mustRegister(t *testing.T, c *client.Client, th client.ThreadID, name string) uint64 {
	t.Helper()
	v, err := c.ReadRegister(th, name)
	if err != nil {
		t.Fatal(err)
	}
	return v.Uint64()
}

// runToExit continues until the process exits and checks its exit code.
func runToExit(t *testing.T, ctx context.Context, c *client.Client, code int) {
	t.Helper()
	s := expect(t, "continue to the exit", client.StopExited)(c.Continue(ctx))
	if s.ExitCode != code {
		t.Errorf("exit code %d, want %d", s.ExitCode, code)
	}
}

// checkStops runs the stops every stub must report the same way on
// testdata/basic.c, stopped at its first instruction: a write watchpoint,
// a breakpoint with its registers, a step, a range step off it, and the
// exit.
func checkStops(t *testing.T, c *client.Client, pid int, report string) {
	ctx := clientCtx(t)
	first := c.LastStop()
	if first.Kind != client.StopSignal || first.TID <= 0 || pid > 0 && first.PID != pid {
		t.Errorf("first stop %v (%+v), want a signal stop of process %d", first, first.Event, pid)
	}
	watched := symbolAddr(t, c, prog("basic"), "watched")
	add := symbolAddr(t, c, prog("basic"), "add")

	w, err := c.SetWatchpoint(client.HWWrite, watched, 4)
	if err != nil {
		t.Fatal(err)
	}
	for want := uint32(1); want <= 2; want++ {
		s := expect(t, "continue to the watchpoint", client.StopWatchpoint)(c.Continue(ctx))
		if s.HW.Addr != watched {
			t.Errorf("watchpoint stop at %#x, want %#x", s.HW.Addr, watched)
		}
		var b [4]byte
		if n, err := c.ReadMemory(watched, b[:]); err != nil || n != 4 || b != [4]byte{byte(want)} {
			t.Errorf("watched after the write: %v %d %v, want %d", b, n, err, want)
		}
	}
	if err := w.Remove(); err != nil {
		t.Fatal(err)
	}

	bp, err := c.SetBreakpoint(add)
	if err != nil {
		t.Fatal(err)
	}
	s := expect(t, "continue to add", client.StopBreakpoint)(c.Continue(ctx))
	th := s.Thread()
	if v, ok := s.Register("rip"); !ok || v.Uint64() != add {
		t.Errorf("expedited rip %x (%v), want %#x", v, ok, add)
	}
	if pc := mustRegister(t, c, th, "rip"); pc != add {
		t.Errorf("rip %#x, want %#x", pc, add)
	}
	// add(local, counter): add(42, 5).
	if a, b := mustRegister(t, c, th, "rdi"), mustRegister(t, c, th, "rsi"); a != 42 || b != 5 {
		t.Errorf("add's arguments %d, %d, want 42, 5", a, b)
	}
	s = expect(t, "step off the breakpoint", client.StopStep)(c.Step(ctx, th))
	pc := mustRegister(t, c, th, "pc")
	if pc == add || s.Thread() != th {
		t.Errorf("after a step: %v at %#x, want thread %v past %#x", s, pc, th, add)
	}
	s = expect(t, "range step", client.StopStep)(c.RangeStep(ctx, th, pc, pc+4))
	if got := mustRegister(t, c, th, "pc"); got >= pc && got < pc+4 {
		t.Errorf("range step [%#x, %#x) stopped at %#x, inside", pc, pc+4, got)
	}
	if err := bp.Remove(); err != nil {
		t.Fatal(err)
	}
	runToExit(t, ctx, c, 7)
	checkBasicReport(t, report)
}

func TestClientStops(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	checkStops(t, dialClient(t, s, nil), s.pid, report)
}

// TestClientBreakpointStepOver hits a breakpoint in a loop: each resume
// must step off it, in whichever way the stub needs.
func TestClientBreakpointStepOver(t *testing.T) {
	prepare(t)
	p := startReady(t, "ticker")
	s := startStub(t, stubOptions{attach: p.cmd.Process.Pid, prog: prog("ticker")})
	c := dialClient(t, s, nil)
	ctx := clientCtx(t)
	tick := symbolAddr(t, c, prog("ticker"), "tick")
	sets := []func(uint64) (*client.Breakpoint, error){c.SetBreakpoint}
	if ok, reason := probeDebugRegisters(); ok {
		sets = append(sets, c.SetHWBreakpoint)
	} else {
		t.Logf("no hardware breakpoint: debug registers do not trap on this machine: %s", reason)
	}
	for _, set := range sets {
		bp, err := set(tick)
		if err != nil {
			t.Fatal(err)
		}
		var last uint64
		for i := range 5 {
			want := client.StopBreakpoint
			if bp.Kind == client.HWBreakpoint {
				want = client.StopHWBreakpoint
			}
			st := expect(t, bp.String(), want)(c.Continue(ctx))
			arg := mustRegister(t, c, st.Thread(), "rdi")
			if i > 0 && arg != last+1 {
				t.Errorf("%s: tick(%d) after tick(%d)", bp, arg, last)
			}
			last = arg
		}
		if err := bp.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Detach(s.pid); err != nil {
		t.Fatal(err)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

func TestClientMemory(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	c := dialClient(t, s, nil)
	th := c.LastStop().Thread()

	var pattern [16]byte
	if _, err := c.ReadMemory(symbolAddr(t, c, prog("basic"), "pattern"), pattern[:]); err != nil {
		t.Fatal(err)
	}
	for i, b := range pattern {
		if b != byte(i*0x11) {
			t.Fatalf("pattern = % x", pattern)
		}
	}

	// Below the stack pointer of a program at its first instruction
	// lies stack it has not used: write a large block there, with every
	// byte value (the framing escapes some), and read it back.
	sp := mustRegister(t, c, th, "rsp")
	block := make([]byte, 0x9000)
	for i := range block {
		block[i] = byte(i*7 + i>>8)
	}
	at := sp&^0xfff - 0x10000
	if err := c.WriteMemory(at, block); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(block))
	if n, err := c.ReadMemory(at, got); err != nil || n != len(got) || !bytes.Equal(got, block) {
		t.Fatalf("read back %d bytes, %v; equal: %v", n, err, bytes.Equal(got, block))
	}
	// The reference: rsp.Client's m, 1 KiB at a time.
	for off := 0; off < len(block); off += 0x400 {
		ref, err := c.Raw().ReadMemory(at+uint64(off), 0x400)
		if err != nil || !bytes.Equal(ref, block[off:off+0x400]) {
			t.Fatalf("m at %#x: %v, differs from what was written", at+uint64(off), err)
		}
	}

	// A read that runs off the end of the stack stops there.
	end := stackEnd(t, s.pid)
	n, err := c.ReadMemory(end-10, make([]byte, 20))
	var me *client.MemoryError
	if n != 10 || !errors.As(err, &me) || me.Addr != end {
		t.Errorf("read across the end of the stack: %d, %v; want 10 and a MemoryError at %#x", n, err, end)
	}
	runToExit(t, clientCtx(t), c, 7)
	checkBasicReport(t, report)
}

func TestClientRegisters(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	c := dialClient(t, s, nil)
	th := c.LastStop().Thread()
	d, err := c.Description()
	if err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"rip": 8, "eflags": 4, "xmm0": 16, "st0": 10} {
		if r, ok := d.Register(name); !ok || r.Size != size {
			t.Errorf("register %s: %+v, %v; want %d bytes", name, r, ok, size)
		}
	}
	all, err := c.ReadRegisters(th)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := c.ReadRegisters(th)
	if v, ok := all.Get("rip"); !ok || v.Uint64() != mustRegister(t, c, th, "rip") {
		t.Errorf("g's rip %x (%v) differs from p's", v, ok)
	}
	if err := c.WriteRegister(th, "rax", client.Uint64Value(0x1122334455667788)); err != nil {
		t.Fatal(err)
	}
	if got := mustRegister(t, c, th, "rax"); got != 0x1122334455667788 {
		t.Errorf("rax after P: %#x", got)
	}
	if err := all.Set("rbx", client.Uint64Value(0xfeed)); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteRegisters(th, all); err != nil {
		t.Fatal(err)
	}
	if got := mustRegister(t, c, th, "rbx"); got != 0xfeed {
		t.Errorf("rbx after G: %#x", got)
	}
	if _, err := c.ReadRegister(th, "xmm0"); err != nil {
		t.Error(err)
	}
	if err := c.WriteRegisters(th, saved); err != nil {
		t.Fatal(err)
	}
	runToExit(t, clientCtx(t), c, 7)
	checkBasicReport(t, report)
}

func TestClientThreads(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("threads")})
	c := dialClient(t, s, nil)
	ctx := clientCtx(t)
	stop, bp := runTo(t, ctx, c, prog("threads"), "all_started")
	threads, err := c.Threads()
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 5 {
		t.Fatalf("%d threads, want 5: %+v", len(threads), threads)
	}
	sps := map[uint64]bool{}
	for _, th := range threads {
		if th.ID.PID != s.pid || th.Name != "threads" {
			t.Errorf("thread %+v, want one of process %d named threads", th, s.pid)
		}
		sps[mustRegister(t, c, th.ID, "rsp")] = true
	}
	if len(sps) != 5 {
		t.Errorf("%d distinct stack pointers among 5 threads", len(sps))
	}
	other := threads[len(threads)-1].ID
	if other == stop.Thread() {
		other = threads[0].ID
	}
	if err := c.Select(other); err != nil {
		t.Fatal(err)
	}
	if pids, err := c.Processes(); err != nil || len(pids) != 1 || pids[0] != s.pid {
		t.Errorf("Processes = %v, %v; want [%d]", pids, err, s.pid)
	}
	if err := bp.Remove(); err != nil {
		t.Fatal(err)
	}
	runToExit(t, ctx, c, 0)
}

// TestClientInterrupt stops a program that spins with a context's
// deadline and with Interrupt from another goroutine.
func TestClientInterrupt(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("spin")})
	c := dialClient(t, s, nil)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	st, err := c.Continue(short)
	if !errors.Is(err, context.DeadlineExceeded) || st.Kind != client.StopSignal || st.Signal != int(unix.SIGINT) {
		t.Fatalf("Continue until the deadline: %v, %v; want a SIGINT stop and the deadline", st, err)
	}
	if err := c.Resume(client.Action{Kind: client.Continue}); err != nil {
		t.Fatal(err)
	}
	go c.Interrupt()
	st, err = c.Wait(clientCtx(t))
	if err != nil || st.Signal != int(unix.SIGINT) {
		t.Fatalf("Wait after Interrupt: %v, %v; want a SIGINT stop", st, err)
	}
	if err := c.WriteMemory(symbolAddr(t, c, prog("spin"), "stop"), []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	runToExit(t, clientCtx(t), c, 3)
}

// TestClientSignals passes SIGUSR1 and SIGUSR2 on, whose numbers differ
// between Linux and gdb's protocol.
func TestClientSignals(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{prog: prog("usrsig")})
	c := dialClient(t, s, nil)
	ctx := clientCtx(t)
	st, err := c.Continue(ctx)
	for _, sig := range []unix.Signal{unix.SIGUSR1, unix.SIGUSR2} {
		expect(t, "continue to "+unix.SignalName(sig), client.StopSignal)(st, err)
		if st.Signal != int(sig) {
			t.Fatalf("stopped with %v, want %v", st, unix.SignalName(sig))
		}
		st, err = c.ContinueSignal(ctx, st.Thread(), st.Signal)
	}
	// The handler saw both.
	if expect(t, "continue to the exit", client.StopExited)(st, err); st.ExitCode != 2 {
		t.Errorf("exit code %d, want 2", st.ExitCode)
	}
}

// TestClientExtended runs, kills, attaches to and detaches from programs
// through an extended-mode stub.
func TestClientExtended(t *testing.T) {
	prepare(t)
	s := startStub(t, stubOptions{multi: true})
	c := dialClient(t, s, nil)
	ctx := clientCtx(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	first, err := c.Run(ctx, client.Program{
		Path: prog("showargs"),
		Args: []string{report, "one", "two"},
		Env:  []string{"PROCGDB_T_SET=set by the client"},
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.PID <= 0 || first.Exited() {
		t.Fatalf("first stop of a run: %v", first)
	}
	runToExit(t, ctx, c, 2)
	want := "argc=4\narg=one\narg=two\nset=set by the client\nserver=(unset)\ncwd=" + dir + "\n"
	if got := readFile(t, report); got != want {
		t.Errorf("showargs reported:\n%s\nwant:\n%s", got, want)
	}

	// Run again, and kill.
	again, err := c.Run(ctx, client.Program{Path: prog("basic"), Args: []string{filepath.Join(dir, "r2")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(again.PID); err != nil {
		t.Fatal(err)
	}
	waitGone(t, again.PID)

	p := startReady(t, "ticker")
	st, err := c.Attach(ctx, p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != p.cmd.Process.Pid || st.Exited() {
		t.Errorf("stop after attach: %v, want one in process %d", st, p.cmd.Process.Pid)
	}
	runTo(t, ctx, c, prog("ticker"), "tick") // Detach removes the breakpoint
	if err := c.Detach(st.PID); err != nil {
		t.Fatal(err)
	}
	p.runsOnToReport(t, "ticker", `^done ticks=\d+ sum=\d+ ok=1$`)
}

func TestClientFiles(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	c := dialClient(t, s, nil)
	fsys := c.FS(0)
	dir := t.TempDir()
	rel := func(p string) string { return strings.TrimPrefix(p, "/") }
	name := filepath.Join(dir, "data")

	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	if err := fsys.WriteFile(rel(name), data, 0o640); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(name); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the file written through vFile: %d bytes, %v", len(b), err)
	}
	if b, err := fsys.ReadFile(rel(name)); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("ReadFile: %d bytes, %v", len(b), err)
	}
	fi, err := fsys.Stat(rel(name))
	if err != nil || fi.Size() != int64(len(data)) || fi.Mode() != 0o640 || fi.Name() != "data" {
		t.Errorf("Stat: %v %v", fi, err)
	}

	f, err := fsys.OpenFile(rel(name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("patch"), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(-5, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(tail, data[len(data)-5:]) {
		t.Errorf("the last 5 bytes: %x, %v", tail, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b[10:15]) != "patch" {
		t.Errorf("WriteAt did not write: %q", b[10:15])
	}

	if err := os.Symlink("data", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if target, err := fsys.ReadLink(rel(filepath.Join(dir, "link"))); err != nil || target != "data" {
		t.Errorf("ReadLink: %q, %v", target, err)
	}
	if err := fsys.Remove(rel(name)); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Open(rel(name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a removed file: %v, want fs.ErrNotExist", err)
	}
	if _, err := fsys.Open("/abs"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open of a rooted name: %v, want fs.ErrInvalid", err)
	}
	// The process's own view of the file system.
	maps, err := c.FS(s.pid).ReadFile("proc/" + strconv.Itoa(s.pid) + "/maps")
	if err != nil || !strings.Contains(string(maps), "[stack]") {
		t.Errorf("maps through the process's file system: %v", err)
	}
}

func TestClientLibrariesAuxvExecFile(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	c := dialClient(t, s, nil)
	runTo(t, clientCtx(t), c, prog("basic"), "add")
	libs, err := c.Libraries()
	if err != nil {
		t.Fatal(err)
	}
	libc := false
	for _, l := range libs {
		libc = libc || strings.Contains(l.Name, "libc.so") && l.Addr != 0 && l.LM != 0
	}
	if !libc {
		t.Errorf("libraries without libc: %+v", libs)
	}
	auxv, err := c.Auxv()
	if err != nil {
		t.Fatal(err)
	}
	pageSize := false
	for _, e := range auxv {
		pageSize = pageSize || e.Tag == 6 /* AT_PAGESZ */ && e.Value == uint64(os.Getpagesize())
	}
	if !pageSize {
		t.Errorf("auxv without AT_PAGESZ: %+v", auxv)
	}
	if exe, err := c.ExecFile(s.pid); err != nil || exe != prog("basic") {
		t.Errorf("ExecFile = %q, %v; want %q", exe, err, prog("basic"))
	}
}

// TestClientMonitor runs the monitor command "help", which procgdb and
// gdbserver both answer with a list of commands in O packets.
func TestClientMonitor(t *testing.T) {
	prepare(t)
	s, _ := startBasic(t)
	c := dialClient(t, s, nil)
	out, err := c.Monitor(clientCtx(t), "help")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("monitor help: %q, %v; want a list of commands", out, err)
	}
}

// TestClientErrors checks that errors name the request and what the stub
// said.
func TestClientErrors(t *testing.T) {
	prepare(t)
	s, report := startBasic(t)
	c := dialClient(t, s, nil)
	th := c.LastStop().Thread()
	if _, err := c.ReadRegister(th, "nosuch"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("ReadRegister(nosuch): %v", err)
	}
	_, err := c.SetBreakpoint(0)
	var re *client.ReplyError
	if !errors.As(err, &re) || !strings.HasPrefix(re.Request, "Z0,0,") || re.Code < 0 && re.Text == "" {
		t.Errorf("SetBreakpoint(0): %v, want a ReplyError for Z0,0,1", err)
	}
	n, err := c.ReadMemory(0, make([]byte, 8))
	var me *client.MemoryError
	if n != 0 || !errors.As(err, &me) || me.Addr != 0 || !errors.As(err, &re) {
		t.Errorf("ReadMemory(0): %d, %v; want a MemoryError at 0 wrapping a ReplyError", n, err)
	}
	if err := c.WriteMemory(0, []byte{1}); !errors.As(err, &me) {
		t.Errorf("WriteMemory(0): %v, want a MemoryError", err)
	}
	// None of it hurt the session or the program.
	runToExit(t, clientCtx(t), c, 7)
	checkBasicReport(t, report)
}

// TestClientEvents stops at forks, execs and system calls.
func TestClientEvents(t *testing.T) {
	prepare(t)
	t.Run("fork", func(t *testing.T) {
		s := startStub(t, stubOptions{prog: prog("forker"), args: []string{"fork"}})
		c := dialClient(t, s, &client.Dialer{ForkEvents: true})
		ctx := clientCtx(t)
		st := expect(t, "continue to the fork", client.StopFork)(c.Continue(ctx))
		if st.ChildPID <= 0 || st.ChildPID == s.pid {
			t.Fatalf("fork stop %v: child %d", st, st.ChildPID)
		}
		// Two processes now, both stopped in fork: the child's thread
		// has the parent's program counter.
		pids, err := c.Processes()
		if err != nil || !slices.Contains(pids, s.pid) || !slices.Contains(pids, st.ChildPID) {
			t.Errorf("Processes = %v, %v; want %d and %d", pids, err, s.pid, st.ChildPID)
		}
		child := client.ThreadID{PID: st.ChildPID, TID: st.ChildTID}
		if pc := mustRegister(t, c, child, "rip"); pc != mustRegister(t, c, st.Thread(), "rip") {
			t.Errorf("the child's rip %#x differs from its parent's", pc)
		}
		if err := c.Detach(st.ChildPID); err != nil {
			t.Fatal(err)
		}
		runToExit(t, ctx, c, 13)
	})
	t.Run("exec", func(t *testing.T) {
		s := startStub(t, stubOptions{prog: prog("forker"), args: []string{"exec", prog("usrsig")}})
		c := dialClient(t, s, &client.Dialer{ExecEvents: true})
		ctx := clientCtx(t)
		st := expect(t, "continue to the exec", client.StopExec)(c.Continue(ctx))
		if st.ExecPath != prog("usrsig") {
			t.Errorf("exec of %q, want %q", st.ExecPath, prog("usrsig"))
		}
	})
	t.Run("threads", func(t *testing.T) {
		s := startStub(t, stubOptions{prog: prog("threads")})
		c := dialClient(t, s, nil)
		ctx := clientCtx(t)
		if err := c.ThreadEvents(true); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			expect(t, "continue to a new thread", client.StopThreadCreated)(c.Continue(ctx))
		}
		if suite.stub == "gdbserver" {
			// gdbserver 13 dies at the first exit event of a thread.
			if err := c.ThreadEvents(false); err != nil {
				t.Fatal(err)
			}
			runToExit(t, ctx, c, 0)
			return
		}
		// Each worker's exit, and possibly the main thread's own (as with
		// gdbserver), in the order the kernel reports them, then the
		// process's.
		workers, leader := 0, 0
		for {
			st, err := c.Continue(ctx)
			if err != nil {
				t.Fatalf("continue to the exit: %v", err)
			}
			if st.Kind == client.StopExited {
				if st.ExitCode != 0 {
					t.Errorf("exit code %d, want 0", st.ExitCode)
				}
				break
			}
			switch {
			case st.Kind != client.StopThreadExited:
				t.Fatalf("continue to the exit: stopped with %v", st)
			case st.TID == s.pid:
				leader++
			default:
				workers++
			}
		}
		if workers != 4 || leader > 1 {
			t.Errorf("%d workers' exits and %d of the main thread, want 4 and at most 1", workers, leader)
		}
	})
	t.Run("syscall", func(t *testing.T) {
		s, report := startBasic(t)
		c := dialClient(t, s, nil)
		ctx := clientCtx(t)
		// gdbserver takes the first system call stop for a return when
		// it catches system calls from the first instruction on; gdb
		// never asks it to, as it first runs to the dynamic linker's
		// breakpoint. So does this test.
		_, bp := runTo(t, ctx, c, prog("basic"), "main")
		if err := bp.Remove(); err != nil {
			t.Fatal(err)
		}
		if err := c.CatchSyscalls(unix.SYS_WRITE); err != nil {
			t.Fatal(err)
		}
		st := expect(t, "continue to write", client.StopSyscallEntry)(c.Continue(ctx))
		if st.Syscall != unix.SYS_WRITE {
			t.Errorf("system call %d, want write", st.Syscall)
		}
		expect(t, "continue to write's return", client.StopSyscallReturn)(c.Continue(ctx))
		if err := c.StopCatchingSyscalls(); err != nil {
			t.Fatal(err)
		}
		runToExit(t, ctx, c, 7)
		checkBasicReport(t, report)
	})
}

// TestClientTransports connects over a unix socket and through a stub the
// client starts with "-".
func TestClientTransports(t *testing.T) {
	prepare(t)
	t.Run("unix", func(t *testing.T) {
		onlyProcgdb(t, "a unix socket")
		report := filepath.Join(t.TempDir(), "report")
		s := startStub(t, stubOptions{comm: "unix:" + filepath.Join(t.TempDir(), "sock"), prog: prog("basic"), args: []string{report}})
		c := dialClient(t, s, nil)
		runToExit(t, clientCtx(t), c, 7)
		checkBasicReport(t, report)
	})
	t.Run("stdio", func(t *testing.T) {
		report := filepath.Join(t.TempDir(), "report")
		stderr := newLineLog()
		cmd := exec.Command(suite.stubPath, "-", prog("basic"), report)
		cmd.Stderr = stderr
		c, err := (&client.Dialer{}).StartCommand(clientCtx(t), cmd)
		if err != nil {
			t.Fatal(err)
		}
		runToExit(t, clientCtx(t), c, 7)
		checkBasicReport(t, report)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if cmd.ProcessState == nil {
			t.Errorf("%s still runs after Close", suite.stub)
		}
	})
}
