package rsp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

// Fake processes: pid 100 with threads 100 and 101, readable memory at
// [memBase, memBase+memSize).
const (
	fakePID = 100
	memBase = 0x10000
	memSize = 0x40000
)

// fakeTarget is an in-memory Target that records calls and reports the
// stop events a test scripts.
type fakeTarget struct {
	mu      sync.Mutex
	procs   []int
	threads map[int][]int
	regs    map[inferior.ThreadID]*regs.Set
	mem     []byte
	calls   []string
	resumes [][]inferior.Action
	pass    []int

	// stops feeds WaitStop; Interrupt adds a SIGINT stop to it.
	stops chan inferior.Event
	// input is the session's end of its connection, which WaitStop
	// watches for the client's bytes (-1: none; see watch).
	input int
	// resumed and waitEnded tell a test that the session resumed the
	// target and that a WaitStop returned: nil for a stop, errInput for
	// the client's bytes, or ctx's error.
	resumed   chan struct{}
	waitEnded chan error
}

// errInput is what waitEnded says of a WaitStop that returned for the
// client's bytes.
var errInput = errors.New("input from the client")

// watch makes WaitStop watch c, the session's end of its connection.
func (ft *fakeTarget) watch(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { ft.input = int(fd) })
	}
}

func newFakeTarget() *fakeTarget {
	ft := &fakeTarget{
		procs:     []int{fakePID},
		threads:   map[int][]int{fakePID: {fakePID, fakePID + 1}},
		regs:      map[inferior.ThreadID]*regs.Set{},
		mem:       make([]byte, memSize),
		stops:     make(chan inferior.Event, 4),
		input:     -1,
		resumed:   make(chan struct{}, 4),
		waitEnded: make(chan error, 4),
	}
	for i := range ft.mem {
		ft.mem[i] = byte(i % 251)
	}
	return ft
}

func (ft *fakeTarget) record(format string, args ...any) {
	ft.calls = append(ft.calls, fmt.Sprintf(format, args...))
}

// called reports the calls made so far, one per line.
func (ft *fakeTarget) called() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return strings.Join(ft.calls, "\n")
}

func (ft *fakeTarget) Processes() []int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return slices.Clone(ft.procs)
}

func (ft *fakeTarget) Threads(pid int) ([]int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !slices.Contains(ft.procs, pid) {
		return nil, fmt.Errorf("threads of %d: %w", pid, unix.ESRCH)
	}
	return slices.Clone(ft.threads[pid]), nil
}

func (ft *fakeTarget) alive(t inferior.ThreadID) bool {
	return slices.Contains(ft.procs, t.PID) && slices.Contains(ft.threads[t.PID], t.TID)
}

func (ft *fakeTarget) Registers(t inferior.ThreadID, ext bool) (*regs.Set, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !ft.alive(t) {
		return nil, fmt.Errorf("registers of %d: %w", t.TID, unix.ESRCH)
	}
	rs, ok := ft.regs[t]
	if !ok {
		rs = &regs.Set{Layout: regs.FXSaveLayout()}
		rs.GPR.Rbp = 0x7ffe0010
		rs.GPR.Rsp = 0x7ffe0000
		rs.GPR.Rip = 0x401000 + uint64(t.TID)
		ft.regs[t] = rs
	}
	if ext && rs.XSave == nil {
		rs.XSave = make([]byte, rs.Layout.Size)
	}
	return rs, nil
}

func (ft *fakeTarget) SetRegisters(t inferior.ThreadID, s *regs.Set) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.record("SetRegisters %d.%d rip=%#x", t.PID, t.TID, s.GPR.Rip)
	ft.regs[t] = s
	return nil
}

// span returns where [addr, addr+n) overlaps fake memory from its start.
func (ft *fakeTarget) span(pid int, addr uint64, n int) (int, error) {
	if !slices.Contains(ft.procs, pid) {
		return 0, unix.ESRCH
	}
	if addr < memBase || addr >= memBase+memSize {
		return 0, unix.EIO
	}
	return int(min(uint64(n), memBase+memSize-addr)), nil
}

func (ft *fakeTarget) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n, err := ft.span(pid, addr, len(dst))
	if err != nil {
		return 0, fmt.Errorf("read %#x: %w", addr, err)
	}
	return copy(dst, ft.mem[addr-memBase:][:n]), nil
}

func (ft *fakeTarget) WriteMemory(pid int, addr uint64, src []byte) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n, err := ft.span(pid, addr, len(src))
	if err != nil {
		return 0, fmt.Errorf("write %#x: %w", addr, err)
	}
	ft.record("WriteMemory %d %#x %q", pid, addr, src[:n])
	copy(ft.mem[addr-memBase:], src[:n])
	if n < len(src) {
		return n, fmt.Errorf("write %#x: %w", addr+uint64(n), unix.EIO)
	}
	return n, nil
}

func (ft *fakeTarget) InsertBreakpoint(pid int, addr uint64) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.record("InsertBreakpoint %d %#x", pid, addr)
	return nil
}

func (ft *fakeTarget) RemoveBreakpoint(pid int, addr uint64) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.record("RemoveBreakpoint %d %#x", pid, addr)
	return nil
}

func (ft *fakeTarget) Resume(actions []inferior.Action) error {
	ft.mu.Lock()
	ft.resumes = append(ft.resumes, slices.Clone(actions))
	ft.mu.Unlock()
	ft.resumed <- struct{}{}
	return nil
}

func (ft *fakeTarget) WaitStop(ctx context.Context) (inferior.Event, bool, error) {
	readable := make(chan struct{})
	if ft.input >= 0 {
		done := make(chan struct{})
		defer close(done)
		go pollReadable(ft.input, readable, done)
	}
	select {
	case <-readable:
		ft.waitEnded <- errInput
		return inferior.Event{}, false, nil
	case ev := <-ft.stops:
		ft.mu.Lock()
		switch ev.Kind {
		case inferior.EventExited, inferior.EventKilled:
			ft.procs = slices.DeleteFunc(ft.procs, func(p int) bool { return p == ev.PID })
		case inferior.EventFork, inferior.EventVFork:
			// The child is traced and stopped, as Target says.
			ft.procs = append(ft.procs, ev.ChildPID)
			ft.threads[ev.ChildPID] = []int{ev.ChildTID}
		case inferior.EventThreadCreated:
			ft.threads[ev.PID] = append(ft.threads[ev.PID], ev.TID)
		case inferior.EventThreadExited:
			ft.threads[ev.PID] = slices.DeleteFunc(ft.threads[ev.PID], func(t int) bool { return t == ev.TID })
		}
		ft.mu.Unlock()
		ft.waitEnded <- nil
		return ev, true, nil
	case <-ctx.Done():
		ft.waitEnded <- ctx.Err()
		return inferior.Event{}, false, ctx.Err()
	}
}

// pollReadable closes readable once fd has bytes to read (or is closed),
// unless done is closed first.
func pollReadable(fd int, readable, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 10); n > 0 || (err != nil && !errors.Is(err, unix.EINTR)) {
			close(readable)
			return
		}
	}
}

func (ft *fakeTarget) Interrupt() error {
	ft.mu.Lock()
	ft.record("Interrupt")
	ft.mu.Unlock()
	ft.stops <- inferior.Event{Kind: inferior.EventSignal, PID: fakePID, TID: fakePID, Signal: int(unix.SIGINT)}
	return nil
}

func (ft *fakeTarget) remove(verb string, pid int) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !slices.Contains(ft.procs, pid) {
		return fmt.Errorf("%s %d: %w", verb, pid, unix.ESRCH)
	}
	ft.record("%s %d", verb, pid)
	ft.procs = slices.DeleteFunc(ft.procs, func(p int) bool { return p == pid })
	return nil
}

func (ft *fakeTarget) Kill(pid int) error   { return ft.remove("Kill", pid) }
func (ft *fakeTarget) Detach(pid int) error { return ft.remove("Detach", pid) }

func (ft *fakeTarget) SetPassSignals(sigs []int) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.pass = slices.Clone(sigs)
}

func (ft *fakeTarget) Auxv(pid int) ([]byte, error) {
	return []byte(fmt.Sprintf("auxv of %d", pid)), nil
}

func (ft *fakeTarget) ExecFile(pid int) (string, error) {
	return fmt.Sprintf("/proc/%d/exe", pid), nil
}

func (ft *fakeTarget) Libraries(pid int) (uint64, []inferior.Library, error) {
	return 0x1000, []inferior.Library{{Name: "/lib/libc.so.6", LM: 0x2000, Addr: 0x3000, LD: 0x4000}}, nil
}

func (ft *fakeTarget) Siginfo(t inferior.ThreadID) ([]byte, error) {
	b := make([]byte, 128)
	b[0] = byte(t.TID)
	return b, nil
}

func (ft *fakeTarget) ThreadInfo(t inferior.ThreadID) (string, int, bool) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !ft.alive(t) {
		return "", 0, false
	}
	return fmt.Sprintf("w<%d>", t.TID), t.TID % 4, true
}

// harness runs a Session on a fakeTarget and talks to it with a Client.
type harness struct {
	t  *testing.T
	ft *fakeTarget
	c  *Client
	// client is the client's raw end, closed to simulate a disconnect.
	client interface{ Close() error }
	served chan served
}

type served struct {
	out Outcome
	err error
}

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

func startSession(t *testing.T, ft *fakeTarget, cfg Config) *harness {
	t.Helper()
	return serveTarget(t, ft, ft, cfg)
}

// startLaunchSession runs a Session on a launchTarget.
func startLaunchSession(t *testing.T, lt *launchTarget, cfg Config) *harness {
	t.Helper()
	return serveTarget(t, lt, lt.fakeTarget, cfg)
}

// serveTarget runs a Session on target, whose fake processes are ft's.
func serveTarget(t *testing.T, target Target, ft *fakeTarget, cfg Config) *harness {
	t.Helper()
	a, b := socketPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	h := &harness{t: t, ft: ft, c: NewClient(a), client: a, served: make(chan served, 1)}
	ft.watch(b)
	s := NewSession(b, target, cfg)
	go func() {
		out, err := s.Serve(ctx)
		h.served <- served{out, err}
	}()
	t.Cleanup(func() {
		cancel()
		b.Close()
	})
	return h
}

// exchange sends p and returns the reply, failing the test on I/O errors.
func (h *harness) exchange(p string) string {
	h.t.Helper()
	r, err := h.c.Exchange(p)
	if err != nil {
		h.t.Fatalf("Exchange(%q): %v", p, err)
	}
	return r
}

// expect checks the reply to p.
func (h *harness) expect(p, want string) {
	h.t.Helper()
	if got := h.exchange(p); got != want {
		h.t.Errorf("%s: got %q, want %q", p, got, want)
	}
}

// gdbFeatures is what gdb 13 offers in qSupported, plus error-message.
const gdbFeatures = "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;" +
	"vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386"

// negotiate sends qSupported as gdb does.
func (h *harness) negotiate(features string) {
	h.t.Helper()
	if r := h.exchange(features); !strings.HasPrefix(r, "PacketSize=") {
		h.t.Fatalf("qSupported: %q", r)
	}
}

// outcome waits for Serve to return.
func (h *harness) outcome() (Outcome, error) {
	h.t.Helper()
	select {
	case s := <-h.served:
		return s.out, s.err
	case <-time.After(waitTimeout):
		h.t.Fatal("Serve did not return")
		return 0, nil
	}
}

// waitFor waits for a signal on ch.
func waitFor[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// launchTarget is a fakeTarget that is also a Launcher and an EventTarget.
// Launched processes get PIDs from 0x200 on and one thread; attached ones
// two threads. Launching "/nonexistent" fails.
type launchTarget struct {
	*fakeTarget
	nextPID  int
	launches []LaunchSpec
	options  []inferior.EventOptions
	// threadOptions holds each thread's options (ThreadOptioner).
	threadOptions map[inferior.ThreadID]inferior.ThreadOptions
}

var (
	_ Launcher       = (*launchTarget)(nil)
	_ EventTarget    = (*launchTarget)(nil)
	_ ThreadOptioner = (*launchTarget)(nil)
)

func newLaunchTarget() *launchTarget {
	return &launchTarget{fakeTarget: newFakeTarget(), nextPID: 0x200, threadOptions: map[inferior.ThreadID]inferior.ThreadOptions{}}
}

func (lt *launchTarget) SetThreadOptions(t inferior.ThreadID, o inferior.ThreadOptions) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if !lt.alive(t) {
		return fmt.Errorf("options of %d: %w", t.TID, unix.ESRCH)
	}
	lt.threadOptions[t] = o
	return nil
}

// threadOptionsOf returns the options of every thread that has any.
func (lt *launchTarget) threadOptionsOf() map[inferior.ThreadID]inferior.ThreadOptions {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	m := map[inferior.ThreadID]inferior.ThreadOptions{}
	for t, o := range lt.threadOptions {
		if o != 0 {
			m[t] = o
		}
	}
	return m
}

func (lt *launchTarget) Launch(spec LaunchSpec) (int, error) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.launches = append(lt.launches, spec)
	if spec.Program == "/nonexistent" {
		return 0, fmt.Errorf("exec %s: %w", spec.Program, unix.ENOENT)
	}
	pid := lt.nextPID
	lt.nextPID++
	lt.record("Launch %s %q", spec.Program, spec.Args)
	lt.procs = append(lt.procs, pid)
	lt.threads[pid] = []int{pid}
	return pid, nil
}

func (lt *launchTarget) Attach(pid int) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if pid == 1 {
		return fmt.Errorf("attach %d: %w", pid, unix.EPERM)
	}
	lt.record("Attach %d", pid)
	lt.procs = append(lt.procs, pid)
	lt.threads[pid] = []int{pid, pid + 1}
	return nil
}

func (lt *launchTarget) SetEventOptions(o inferior.EventOptions) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.options = append(lt.options, o)
}

// lastLaunch returns the spec of the last Launch.
func (lt *launchTarget) lastLaunch() LaunchSpec {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if len(lt.launches) == 0 {
		return LaunchSpec{}
	}
	return lt.launches[len(lt.launches)-1]
}

// eventOptions returns the options last set.
func (lt *launchTarget) eventOptions() inferior.EventOptions {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if len(lt.options) == 0 {
		return inferior.EventOptions{}
	}
	return lt.options[len(lt.options)-1]
}
