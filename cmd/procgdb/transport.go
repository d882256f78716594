package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// conn is one client connection.
type conn interface {
	io.ReadWriteCloser
}

// transport hands out client connections.
type transport interface {
	// accept waits for the next client and describes it in gdbserver's
	// words ("Remote debugging from host ADDR, port P").
	accept(ctx context.Context) (conn, string, error)
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
		return listenUnix(strings.TrimPrefix(comm, "unix:"))
	}
	return listenTCP(comm, warn)
}

// listenTCP listens on HOST:PORT. An empty host means loopback only,
// both IPv4 and (where available) IPv6 on the same port.
func listenTCP(comm string, warn func(string)) (transport, error) {
	host, portStr, err := net.SplitHostPort(comm)
	if err != nil {
		return nil, fmt.Errorf("%s: not HOST:PORT, unix:PATH or -: %w", comm, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("%s: bad port %q", comm, portStr)
	}
	var hosts []string
	switch host {
	case "":
		hosts = []string{"127.0.0.1", "::1"}
	default:
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			warn(fmt.Sprintf("warning: listening on every interface (%s): anyone who can reach port %d controls the debugged process", comm, port))
		}
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), host)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot resolve name: %w", comm, err)
		}
		hosts = addrs[:1]
	}
	t := &tcpTransport{conns: make(chan acceptResult)}
	for i, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
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
}

func (t *tcpTransport) acceptLoop(l net.Listener) {
	for {
		c, err := l.Accept()
		t.conns <- acceptResult{c, err}
		if err != nil {
			return
		}
	}
}

func (t *tcpTransport) accept(ctx context.Context) (conn, string, error) {
	select {
	case r := <-t.conns:
		if r.err != nil {
			return nil, "", r.err
		}
		host, port, _ := net.SplitHostPort(r.c.RemoteAddr().String())
		return newSockConn(r.c), fmt.Sprintf("Remote debugging from host %s, port %s", host, port), nil
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
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
}

func listenUnix(path string) (transport, error) {
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
	return &unixTransport{path: path, l: l}, nil
}

func (t *unixTransport) accept(ctx context.Context) (conn, string, error) {
	stop := context.AfterFunc(ctx, func() { t.l.Close() })
	defer stop()
	c, err := t.l.AcceptUnix()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, "", err
	}
	return newSockConn(c), "Remote debugging from unix socket " + t.path, nil
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

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdin.Close() }

func (t *stdioTransport) accept(ctx context.Context) (conn, string, error) {
	if t.used {
		return nil, "", io.EOF
	}
	t.used = true
	return stdio{}, "Remote debugging using stdio", nil
}

func (t *stdioTransport) ready() string { return "" }
func (t *stdioTransport) single() bool  { return true }
func (t *stdioTransport) close() error  { return nil }
