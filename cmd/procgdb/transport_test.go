package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTCPComm(t *testing.T) {
	tests := []struct {
		comm    string
		want    tcpComm
		wantErr string
	}{
		{comm: ":1234", want: tcpComm{"tcp", "", 1234}},
		{comm: "localhost:0", want: tcpComm{"tcp", "localhost", 0}},
		{comm: "127.0.0.1:1234", want: tcpComm{"tcp", "127.0.0.1", 1234}},
		{comm: "::1:1234", want: tcpComm{"tcp", "::1", 1234}},
		{comm: "[::1]:1234", want: tcpComm{"tcp", "::1", 1234}},
		{comm: "fe80::1:2:0", want: tcpComm{"tcp", "fe80::1:2", 0}},
		{comm: "tcp::1234", want: tcpComm{"tcp", "", 1234}},
		{comm: "tcp:localhost:1234", want: tcpComm{"tcp", "localhost", 1234}},
		{comm: "tcp4::0", want: tcpComm{"tcp4", "", 0}},
		{comm: "tcp4:127.0.0.1:0", want: tcpComm{"tcp4", "127.0.0.1", 0}},
		{comm: "tcp6::0", want: tcpComm{"tcp6", "", 0}},
		{comm: "tcp6:[::1]:0", want: tcpComm{"tcp6", "::1", 0}},
		{comm: "tcp6:::1:0", want: tcpComm{"tcp6", "::1", 0}},
		{comm: "[::]:1234", want: tcpComm{"tcp", "::", 1234}},
		{comm: "::1:", wantErr: `bad port ""`},
		{comm: "[::1", wantErr: "not HOST:PORT"},
		{comm: "tcp:", wantErr: "not HOST:PORT"},
		{comm: "1234", wantErr: "not HOST:PORT"},
		{comm: "a:b:c", wantErr: "not an IPv6 address"},
		{comm: "1.2.3.4:5:6", wantErr: "not an IPv6 address"},
		{comm: ":99999", wantErr: "bad port"},
		{comm: "tcp6:127.0.0.1:0", wantErr: "not an address of tcp6"},
		{comm: "tcp4:[::1]:0", wantErr: "not an address of tcp4"},
	}
	for _, tt := range tests {
		got, err := parseTCPComm(tt.comm)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.comm)
			continue
		}
		require.NoError(t, err, tt.comm)
		require.Equal(t, tt.want, got, tt.comm)
	}
}
