package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// transport hands out client connections.
type transport interface {
	// accept waits for the next client and describes it in gdbserver's
	// words ("Remote debugging from host ADDR, port P").
	accept(ctx context.Context) (accepted, error)
	// ready is the line that says the transport is ready for clients.
	ready() string
	// single reports whether there will only ever be one client.
	single() bool
	close() error
}

// openTransport sets up COMM. warn receives a warning when COMM exposes
// the stub beyond this machine.
func openTransport(comm string, warn func(string)) (transport, error) {
	switch {
	case comm == "-" || comm == "stdio":
		return &stdioTransport{}, nil
	case strings.HasPrefix(comm, "unix:"):
		return listenUnix(strings.TrimPrefix(comm, "unix:"), warn)
	}
	return listenTCP(comm, warn)
}

// tcpComm is a TCP COMM taken apart.
type tcpComm struct {
	network string // "tcp", or "tcp4" or "tcp6" for one address family
	host    string // "" for the loopback addresses
	port    int
}

// parseTCPComm reads the TCP forms of COMM, gdbserver's:
// [tcp:|tcp4:|tcp6:]HOST:PORT, where HOST may be empty (loopback only), a
// name, an IPv4 address, or an IPv6 address, bare (::1:PORT: the port
// follows the last colon) or in brackets ([::1]:PORT).
func parseTCPComm(comm string) (tcpComm, error) {
	c := tcpComm{network: "tcp"}
	rest := comm
	for _, n := range []string{"tcp4", "tcp6", "tcp"} {
		if r, ok := strings.CutPrefix(comm, n+":"); ok {
			c.network, rest = n, r
			break
		}
	}
	var portStr string
	if strings.HasPrefix(rest, "[") || strings.Count(rest, ":") <= 1 {
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return c, fmt.Errorf("%s: not HOST:PORT, unix:PATH, - or stdio: %w", comm, err)
		}
		c.host, portStr = host, port
	} else {
		i := strings.LastIndexByte(rest, ':')
		c.host, portStr = rest[:i], rest[i+1:]
		if ip := net.ParseIP(c.host); ip == nil || ip.To4() != nil {
			return c, fmt.Errorf("%s: %q is not an IPv6 address (write [HOST]:PORT)", comm, c.host)
		}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return c, fmt.Errorf("%s: bad port %q", comm, portStr)
	}
	c.port = port
	if ip := net.ParseIP(c.host); ip != nil && (c.network == "tcp4" && ip.To4() == nil || c.network == "tcp6" && ip.To4() != nil) {
		return c, fmt.Errorf("%s: %s is not an address of %s", comm, c.host, c.network)
	}
	return c, nil
}

// listenTCP listens on a TCP COMM (parseTCPComm). An empty host means
// loopback only: both IPv4 and (where available) IPv6 on the same port,
// or the one family tcp4: or tcp6: asks for.
func listenTCP(comm string, warn func(string)) (transport, error) {
	c, err := parseTCPComm(comm)
	if err != nil {
		return nil, err
	}
	var hosts []string
	switch {
	case c.host == "" && c.network == "tcp4":
		hosts = []string{"127.0.0.1"}
	case c.host == "" && c.network == "tcp6":
		hosts = []string{"::1"}
	case c.host == "":
		hosts = []string{"127.0.0.1", "::1"}
	default:
		if ip := net.ParseIP(c.host); ip != nil && ip.IsUnspecified() {
			warn(fmt.Sprintf("warning: listening on every interface (%s): anyone who can reach port %d controls the debugged process", comm, c.port))
		}
		family := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[c.network]
		ips, err := net.DefaultResolver.LookupNetIP(context.Background(), family, c.host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("%s: cannot resolve name: %w", comm, err)
		}
		hosts = []string{ips[0].Unmap().String()}
	}
	port := c.port
	t := &tcpTransport{conns: make(chan acceptResult), warn: warn}
	for i, h := range hosts {
		l, err := net.Listen(c.network, net.JoinHostPort(h, strconv.Itoa(port)))
		if err != nil {
			if i > 0 {
				continue // no IPv6 loopback: IPv4 alone will do
			}
			return nil, fmt.Errorf("listen on %s: %w", comm, err)
		}
		if i == 0 {
			port = l.Addr().(*net.TCPAddr).Port
		}
		t.ls = append(t.ls, l)
	}
	t.port = port
	for _, l := range t.ls {
		go t.acceptLoop(l)
	}
	return t, nil
}

type acceptResult struct {
	c   net.Conn
	err error
}

type tcpTransport struct {
	ls    []net.Listener
	port  int
	conns chan acceptResult
	warn  func(string)
}

func (t *tcpTransport) acceptLoop(l net.Listener) {
	var b acceptBackoff
	for {
		c, err := l.Accept()
		if err != nil && b.retry(err, t.warn) {
			continue
		}
		b.reset()
		t.conns <- acceptResult{c, err}
		if err != nil {
			return
		}
	}
}

// Accepting a client can fail for a while without anything being wrong
// with the listener: procgdb is out of descriptors (EMFILE, ENFILE), the
// kernel out of memory, or a connection went away before it was
// accepted. The server then tries again, waiting longer each time, up to
// a second, rather than ending: its clients and their processes are still
// there. Other errors (a closed listener) end the serving.

// acceptBackoff paces the retries of a failing accept.
type acceptBackoff struct{ wait time.Duration }

// retry reports whether accept's err may pass; if so, it warns (at the
// first failure of a run) and waits before the caller tries again.
func (b *acceptBackoff) retry(err error, warn func(string)) bool {
	passing := false
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EPERM, syscall.EINTR, syscall.EAGAIN} {
		passing = passing || errors.Is(err, errno)
	}
	if !passing {
		return false
	}
	if b.wait == 0 {
		warn(fmt.Sprintf("warning: cannot accept a client (%v); trying again", err))
		b.wait = 5 * time.Millisecond
	} else {
		b.wait = min(2*b.wait, time.Second)
	}
	time.Sleep(b.wait)
	return true
}

// reset starts a new run after an accept that worked.
func (b *acceptBackoff) reset() { b.wait = 0 }

func (t *tcpTransport) accept(ctx context.Context) (accepted, error) {
	select {
	case r := <-t.conns:
		if r.err != nil {
			return accepted{}, r.err
		}
		host, port, _ := net.SplitHostPort(r.c.RemoteAddr().String())
		return socketClient(r.c, fmt.Sprintf("Remote debugging from host %s, port %s", host, port))
	case <-ctx.Done():
		return accepted{}, ctx.Err()
	}
}

// socketClient makes an accepted client of a connected socket.
func socketClient(c net.Conn, who string) (accepted, error) {
	l, err := newSocketLink(c)
	if err != nil {
		c.Close()
		return accepted{}, err
	}
	return accepted{l: l, who: who}, nil
}

func (t *tcpTransport) ready() string { return fmt.Sprintf("Listening on port %d", t.port) }
func (t *tcpTransport) single() bool  { return false }

func (t *tcpTransport) close() error {
	var errs []error
	for _, l := range t.ls {
		errs = append(errs, l.Close())
	}
	// Unblock acceptors still sending their final error.
	go func() {
		for range t.ls {
			<-t.conns
		}
	}()
	return errors.Join(errs...)
}

// unixTransport listens on a unix socket, readable and writable by its
// owner only, and removes it when closed.
type unixTransport struct {
	path string
	l    *net.UnixListener
	warn func(string)
}

func listenUnix(path string, warn func(string)) (transport, error) {
	if path == "" {
		return nil, fmt.Errorf("unix: missing socket path")
	}
	// The socket takes its mode from the umask at bind time: make it
	// 0600 from the start rather than chmod it after others could connect.
	old := syscall.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on unix:%s: %w", path, err)
	}
	l.SetUnlinkOnClose(true)
	return &unixTransport{path: path, l: l, warn: warn}, nil
}

func (t *unixTransport) accept(ctx context.Context) (accepted, error) {
	stop := context.AfterFunc(ctx, func() { t.l.Close() })
	defer stop()
	var b acceptBackoff
	c, err := t.l.AcceptUnix()
	for err != nil && ctx.Err() == nil && b.retry(err, t.warn) {
		c, err = t.l.AcceptUnix()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return accepted{}, err
	}
	return socketClient(c, "Remote debugging from unix socket "+t.path)
}

func (t *unixTransport) ready() string { return "Listening on unix socket " + t.path }
func (t *unixTransport) single() bool  { return false }
func (t *unixTransport) close() error {
	err := t.l.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// stdioTransport is RSP on procgdb's own stdin and stdout: one client,
// the program that started procgdb.
type stdioTransport struct{ used bool }

func (t *stdioTransport) accept(ctx context.Context) (accepted, error) {
	if t.used {
		return accepted{}, io.EOF
	}
	t.used = true
	l, err := newStdioLink()
	if err != nil {
		return accepted{}, err
	}
	return accepted{l: l, who: "Remote debugging using stdio"}, nil
}

func (t *stdioTransport) ready() string { return "" }
func (t *stdioTransport) single() bool  { return true }
func (t *stdioTransport) close() error  { return nil }
