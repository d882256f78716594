package rsp

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a connected unix socket pair: unlike
// net.Pipe, writes are buffered by the kernel as on a real connection.
// Both ends time out after a while, so a broken exchange fails instead of
// hanging, and are closed when the test ends.
func socketPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute))
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

// scriptedStub is the stub's end of a net.Pipe, driven by a test.
type scriptedStub struct {
	t    *testing.T
	conn *conn
	raw  net.Conn
}

// newScripted returns a Client and the stub end it talks to.
func newScripted(t *testing.T) (*Client, *scriptedStub) {
	t.Helper()
	a, b := socketPair(t)
	return NewClient(a), &scriptedStub{t: t, conn: newConn(b, readLimit, false, nil), raw: b}
}

// serve answers one packet with reply after checking it is want.
func (s *scriptedStub) serve(want, reply string) {
	f, err := s.conn.readFrame()
	if err != nil {
		s.t.Errorf("stub: read: %v", err)
		return
	}
	if string(f.payload) != want {
		s.t.Errorf("stub: got %q, want %q", f.payload, want)
	}
	if err := s.conn.writePacket([]byte(reply)); err != nil {
		s.t.Errorf("stub: write: %v", err)
	}
}

func TestClientExchange(t *testing.T) {
	c, stub := newScripted(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stub.serve("qSupported:multiprocess+", "PacketSize=4000;a#b$c}d*e")
		// A run-length encoded reply, written by hand: "0* " is 4 zeros.
		if err := stub.conn.writeRaw([]byte(wire("0* 1"))); err != nil {
			t.Error(err)
		}
	}()
	r, err := c.Exchange("qSupported:multiprocess+")
	if err != nil || r != "PacketSize=4000;a#b$c}d*e" {
		t.Fatalf("Exchange = %q, %v", r, err)
	}
	r, err = c.Receive()
	if err != nil || r != "00001" {
		t.Fatalf("Receive = %q, %v; want run-length expansion", r, err)
	}
	<-done
}

func TestClientRetransmitsOnNak(t *testing.T) {
	c, stub := newScripted(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Reject the first copy as if its checksum were bad.
		b := make([]byte, len(wire("g")))
		if _, err := stub.raw.Read(b); err != nil {
			t.Error(err)
			return
		}
		if err := stub.conn.writeRaw([]byte("-")); err != nil {
			t.Error(err)
			return
		}
		stub.serve("g", "0011")
	}()
	r, err := c.Exchange("g")
	if err != nil || r != "0011" {
		t.Fatalf("Exchange = %q, %v", r, err)
	}
	<-done
}

func TestClientNoAck(t *testing.T) {
	c, stub := newScripted(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stub.serve("QStartNoAckMode", "OK")
		if b, err := stub.conn.readAck(); err != nil || b != '+' {
			t.Errorf("ack of OK = %q, %v", b, err)
		}
		stub.conn.setAck(false)
		stub.serve("?", "S05")
	}()
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Exchange("?"); err != nil || r != "S05" {
		t.Fatalf("Exchange = %q, %v", r, err)
	}
	<-done
}

func TestClientHelpers(t *testing.T) {
	c, stub := newScripted(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stub.serve("m1000,4", "cafe")
		stub.serve("m0,4", "E05")
		stub.serve("p99", "E.regs: unknown register")
		stub.serve("qXfer:osdata:read::0,10000", "")
		stub.serve("X1000,3:a#}", "OK")
		stub.serve("g", "00112233")
		stub.serve("p10", "3611400000000000")
		stub.serve("qXfer:features:read:target.xml:0,10000", "m<tar")
		stub.serve("qXfer:features:read:target.xml:4,10000", "lget/>")
	}()
	if b, err := c.ReadMemory(0x1000, 4); err != nil || string(b) != "\xca\xfe" {
		t.Errorf("ReadMemory = %x, %v; want the partial read", b, err)
	}
	var re *ReplyError
	if _, err := c.ReadMemory(0, 4); !errors.As(err, &re) || re.Code != 5 {
		t.Errorf("ReadMemory of unmapped memory: %v, want E05", err)
	}
	if _, err := c.ReadRegister(0x99); !errors.As(err, &re) || re.Code != -1 || re.Text != "regs: unknown register" {
		t.Errorf("ReadRegister(0x99): %v, want the E.text reply", err)
	}
	if _, err := c.ReadXfer("osdata", ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadXfer(osdata): %v, want ErrUnsupported", err)
	}
	if err := c.WriteMemory(0x1000, []byte("a#}")); err != nil {
		t.Errorf("WriteMemory: %v", err)
	}
	if b, err := c.ReadRegisters(); err != nil || string(b) != "\x00\x11\x22\x33" {
		t.Errorf("ReadRegisters = %x, %v", b, err)
	}
	if b, err := c.ReadRegister(16); err != nil || len(b) != 8 || b[0] != 0x36 {
		t.Errorf("ReadRegister(16) = %x, %v", b, err)
	}
	if doc, err := c.ReadXfer("features", "target.xml"); err != nil || string(doc) != "<target/>" {
		t.Errorf("ReadXfer = %q, %v", doc, err)
	}
	<-done
}

func TestClientInterruptAndRaw(t *testing.T) {
	c, stub := newScripted(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := stub.conn.readFrame()
		if err != nil || f.kind != frameInterrupt {
			t.Errorf("stub read %v, %v; want the interrupt byte", f.kind, err)
		}
		// A packet with a bad checksum is answered with '-'.
		if _, err := stub.conn.readFrame(); err == nil {
			t.Error("stub read a packet with a bad checksum")
		}
	}()
	if err := c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteRaw([]byte("$g#00")); err != nil {
		t.Fatal(err)
	}
	if b, err := c.ReadAck(); err != nil || b != '-' {
		t.Errorf("ReadAck = %q, %v; want '-'", b, err)
	}
	c.Close()
	<-done
}

func TestClientDeadline(t *testing.T) {
	c, _ := newScripted(t)
	if err := c.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, err := c.Receive(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Receive after the deadline: %v, want a timeout", err)
	}
}

func TestDial(t *testing.T) {
	l, err := net.Listen("unix", t.TempDir()+"/stub.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		stub := &scriptedStub{t: t, conn: newConn(nc, readLimit, false, nil), raw: nc}
		stub.serve("qC", "QC1f3")
	}()
	c, err := Dial(t.Context(), "unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if r, err := c.Exchange("qC"); err != nil || r != "QC1f3" {
		t.Errorf("Exchange = %q, %v", r, err)
	}
	<-done
}
