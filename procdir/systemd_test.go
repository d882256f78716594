//go:build linux

package procdir

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestListenFDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []ListenFD
		err  string
	}{
		{"not activated", nil, nil, ""},
		{"one", map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "1"}, []ListenFD{{3, "unknown"}}, ""},
		{"named", map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "control:other"},
			[]ListenFD{{3, "control"}, {4, "other"}}, ""},
		{"zero", map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "0"}, []ListenFD{}, ""},
		{"a parent's", map[string]string{"LISTEN_PID": "41", "LISTEN_FDS": "1"}, nil, ""},
		{"no LISTEN_PID", map[string]string{"LISTEN_FDS": "1"}, nil, ""},
		{"no LISTEN_FDS", map[string]string{"LISTEN_PID": "42"}, nil, ""},
		{"bad LISTEN_PID", map[string]string{"LISTEN_PID": "x", "LISTEN_FDS": "1"}, nil, `LISTEN_PID="x": not a PID`},
		{"bad LISTEN_FDS", map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "-1"}, nil, `LISTEN_FDS="-1": not a count of descriptors`},
		{"names do not match", map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "control"}, nil,
			"LISTEN_FDNAMES names 1 descriptors, LISTEN_FDS counts 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ListenFDs(func(k string) string { return tc.env[k] }, 42)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestListenFDListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	defer l.Close()
	f, err := l.File()
	require.NoError(t, err)
	fd, err := unix.Dup(int(f.Fd())) // a descriptor as systemd would pass it
	f.Close()
	require.NoError(t, err)
	ln, err := ListenFD{FD: fd, Name: "control"}.Listener()
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	s, err := ln.Accept()
	require.NoError(t, err)
	s.Close()
}
