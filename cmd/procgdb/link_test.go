package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sockPair returns a link and the other end of a loopback TCP
// connection.
func sockPair(t *testing.T) (*link, net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	other, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	c, err := l.Accept()
	require.NoError(t, err)
	sc, err := newSocketLink(c)
	require.NoError(t, err)
	t.Cleanup(func() { sc.release() })
	return sc, other
}

// A write far larger than the socket's buffers goes through whole, waiting
// for room when the raw write says EAGAIN; reads see it all, then EOF.
func TestLinkBulkAndEOF(t *testing.T) {
	sc, other := sockPair(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(other)
		got <- b
	}()
	n, err := sc.Write(data)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
	require.NoError(t, sc.closer.(*net.TCPConn).CloseWrite())
	require.Equal(t, data, <-got)

	_, err = other.Write([]byte("$g#67"))
	require.NoError(t, err)
	require.NoError(t, other.Close())
	b, err := io.ReadAll(sc)
	require.NoError(t, err)
	require.Equal(t, "$g#67", string(b))
	n, err = sc.Read(make([]byte, 8))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)
}

// Deadlines end a read that waits in Go's poller (no tracer yet), and
// Close ends one too.
func TestLinkDeadlineAndClose(t *testing.T) {
	sc, _ := sockPair(t)
	require.NoError(t, sc.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
	_, err := sc.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	require.NoError(t, sc.SetReadDeadline(time.Time{}))
	done := make(chan error)
	go func() {
		_, err := sc.Read(make([]byte, 8))
		done <- err
	}()
	require.NoError(t, sc.Close())
	select {
	case err := <-done:
		require.True(t, errors.Is(err, net.ErrClosed), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the read")
	}
}
