package client

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/rsp"
)

// Tests of the client's logic against a scripted stub, for what procgdb,
// gdbserver and lldb-server (tests/client_*_test.go) do not show: stubs
// without vCont, P, p or X, console output, refused resumes.

// fakeStub answers the client's packets with reply, which returns the
// packets to send back (several for O packets and a final reply). It
// records what it received.
type fakeStub struct {
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

// fakeTdesc is the fake stub's target description: rax and rip, numbered
// 0 and 1.
const fakeTdesc = `<target><feature name="core"><reg name="rax" bitsize="64"/><reg name="rip" bitsize="64" type="code_ptr"/></feature></target>`

// base answers the packets of a connection; nil for others.
func base(features string) func(string) []string {
	return func(req string) []string {
		switch {
		case strings.HasPrefix(req, "qSupported"):
			return []string{features + ";qXfer:features:read+"}
		case req == "?":
			return []string{"T05thread:p10.10;1:0010000000000000;"}
		case strings.HasPrefix(req, "qXfer:features:read:target.xml:0,"):
			return []string{"l" + fakeTdesc}
		case req == "vCont?":
			return []string{""}
		case strings.HasPrefix(req, "Hg"), strings.HasPrefix(req, "Hc"):
			return []string{"OK"}
		}
		return nil
	}
}

// startFake connects a Client to a fake stub that answers with base, then
// with more for what base does not answer.
func startFake(t *testing.T, d *Dialer, features string, more func(string) []string) (*Client, *fakeStub) {
	t.Helper()
	// A socket pair, not net.Pipe: the two ends write acknowledgments
	// and packets at once, which needs the kernel's buffers.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := socketConn(t, fds[0]), socketConn(t, fds[1])
	f := &fakeStub{done: make(chan struct{})}
	answer := base(features)
	go func() {
		defer close(f.done)
		s := rsp.NewClient(theirs)
		for {
			req, err := s.Receive()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.got = append(f.got, req)
			f.mu.Unlock()
			replies := answer(req)
			if replies == nil {
				replies = more(req)
			}
			for _, r := range replies {
				if s.Send(r) != nil {
					return
				}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.NewClient(ctx, ours)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		theirs.Close()
		<-f.done
	})
	return c, f
}

// socketConn returns a net.Conn for socket fd.
func socketConn(t *testing.T, fd int) net.Conn {
	f := os.NewFile(uintptr(fd), "socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// received returns the packets the stub received that start with prefix.
func (f *fakeStub) received(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, p := range f.got {
		if strings.HasPrefix(p, prefix) {
			got = append(got, p)
		}
	}
	return got
}

func TestWaitForwardsConsoleOutput(t *testing.T) {
	var out bytes.Buffer
	c, _ := startFake(t, &Dialer{Output: &out}, "PacketSize=400", func(req string) []string {
		if req == "c" {
			return []string{"O68656c6c6f2c20", "O776f726c640a", "W00"}
		}
		return []string{""}
	})
	s, err := c.Continue(context.Background())
	if err != nil || s.Kind != StopExited {
		t.Fatalf("Continue = %v, %v; want the exit", s, err)
	}
	if out.String() != "hello, world\n" {
		t.Errorf("console output %q", out.String())
	}
}

func TestRefusedResume(t *testing.T) {
	c, _ := startFake(t, &Dialer{}, "PacketSize=400", func(req string) []string {
		return []string{"E.no such thread"}
	})
	_, err := c.Step(context.Background(), ThreadID{PID: 1, TID: 99})
	var re *ReplyError
	if !errors.As(err, &re) || re.Text != "no such thread" || !strings.HasPrefix(re.Request, "s") {
		t.Fatalf("Step of an unknown thread: %v, want the stub's E.text naming the request", err)
	}
	// The client is still usable.
	if _, err := c.Threads(); err == nil || errors.Is(err, errRunning) {
		t.Errorf("Threads after a refused resume: %v", err)
	}
}

// TestLegacyResume: a stub without vCont is resumed with Hc and c, s, C
// and S, signals in gdb's numbers.
func TestLegacyResume(t *testing.T) {
	c, f := startFake(t, &Dialer{}, "PacketSize=400", func(req string) []string {
		if req == "p1" {
			return []string{"0010000000000000"}
		}
		return []string{"T05thread:10;"}
	})
	ctx := context.Background()
	th := ThreadID{TID: 0x10}
	if _, err := c.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := c.Step(ctx, th)
	if err != nil || s.Kind != StopStep {
		t.Fatalf("Step = %v, %v; want a step", s, err)
	}
	if err := c.Resume(Action{Kind: Step, TID: 0x10, Signal: int(unix.SIGUSR1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RangeStep(ctx, th, 0, 1); err != nil {
		t.Errorf("RangeStep by steps: %v", err)
	}
	var resumes []string
	for _, p := range f.received("") {
		if p == "c" || p == "s" || p[0] == 'S' && p != "QStartNoAckMode" {
			resumes = append(resumes, p)
		}
	}
	if want := []string{"c", "s", "S1e", "s"}; !slices.Equal(resumes, want) {
		t.Errorf("resume packets %q, want %q", resumes, want)
	}
	if hc := f.received("Hc"); !slices.Equal(hc, []string{"Hc-1", "Hc10", "Hc10", "Hc10"}) {
		t.Errorf("Hc packets %q, want Hc-1, then Hc10 for each step", hc)
	}
}

// TestFallbacks: a stub without X writes with M; without p and P,
// registers go through g and G.
func TestFallbacks(t *testing.T) {
	regs := "0100000000000000" + "0010000000000000" // rax, rip
	c, f := startFake(t, &Dialer{}, "PacketSize=400", func(req string) []string {
		switch {
		case req == "g":
			return []string{regs}
		case strings.HasPrefix(req, "G"), strings.HasPrefix(req, "M"):
			return []string{"OK"}
		case strings.HasPrefix(req, "m"):
			return []string{"E01"}
		}
		return []string{""}
	})
	th := ThreadID{PID: 0x10, TID: 0x10}
	if pc, err := c.PC(th); err != nil || pc != 0x1000 {
		t.Errorf("PC through g = %#x, %v", pc, err)
	}
	if err := c.WriteRegister(th, "rax", Uint64Value(2)); err != nil {
		t.Fatal(err)
	}
	if g := f.received("G"); len(g) != 1 || g[0] != "G0200000000000000"+"0010000000000000" {
		t.Errorf("G packets %q", g)
	}
	if err := c.WriteMemory(0x2000, []byte{0xab, '$'}); err != nil {
		t.Fatal(err)
	}
	if m := f.received("M"); len(m) != 1 || m[0] != "M2000,2:ab24" {
		t.Errorf("M packets %q", m)
	}
	// m fails for the whole range, then for the part in the page.
	n, err := c.ReadMemory(0x2ff0, make([]byte, 0x20))
	var me *MemoryError
	if n != 0 || !errors.As(err, &me) || me.Addr != 0x2ff0 {
		t.Errorf("ReadMemory = %d, %v", n, err)
	}
	if m := f.received("m"); len(m) != 2 || m[0] != "m2ff0,20" || m[1] != "m2ff0,10" {
		t.Errorf("m packets %q, want the range, then its part in the page", m)
	}
}

func TestMonitorOutput(t *testing.T) {
	c, _ := startFake(t, &Dialer{}, "PacketSize=400", func(req string) []string {
		if req == "qRcmd,"+"737461747573" { // "status"
			return []string{"O6f6e652c20", "74776f0a"} // "one, " and, as the final reply, "two\n"
		}
		return []string{""}
	})
	out, err := c.Monitor(context.Background(), "status")
	if err != nil || out != "one, two\n" {
		t.Errorf("Monitor = %q, %v", out, err)
	}
	if _, err := c.Monitor(context.Background(), "nosuch"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Monitor of a command the stub lacks: %v", err)
	}
}

func TestStopString(t *testing.T) {
	for _, tt := range []struct {
		ev   inferior.Event
		want string
	}{
		{inferior.Event{Kind: StopBreakpoint, PID: 0x10, TID: 0x11}, "breakpoint, thread p10.11"},
		{inferior.Event{Kind: StopSignal, TID: 0x11, Signal: int(unix.SIGSEGV)}, "SIGSEGV, thread 11"},
		{inferior.Event{Kind: StopWatchpoint, PID: 1, TID: 1, HW: inferior.HWPoint{Addr: 0x40}}, "watchpoint 0x40, thread p1.1"},
		{inferior.Event{Kind: StopExited, PID: 16, ExitCode: 3}, "process 16 exited with code 3"},
		{inferior.Event{Kind: StopKilled, PID: 16, Signal: int(unix.SIGKILL)}, "process 16 killed by SIGKILL"},
		{inferior.Event{Kind: StopNoResumed}, "no thread left to resume"},
	} {
		if got := (Stop{StopReply: rsp.StopReply{Event: tt.ev}}).String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.ev, got, tt.want)
		}
	}
}
