package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		args    []string
		want    options
		wantErr string
	}{
		{args: []string{":1234", "prog", "-x", "--once"}, want: options{comm: ":1234", prog: "prog", args: []string{"-x", "--once"}}},
		{args: []string{"--once", "--debug", "unix:/tmp/s", "prog"}, want: options{comm: "unix:/tmp/s", prog: "prog", args: []string{}, once: true, debug: true}},
		{args: []string{"--attach", ":0", "42"}, want: options{comm: ":0", attach: true, pid: 42}},
		{args: []string{"--once", ":0", "--attach", "42"}, want: options{comm: ":0", attach: true, pid: 42, once: true}},
		{args: []string{"-", "prog"}, want: options{comm: "-", prog: "prog", args: []string{}}},
		{args: []string{"--no-disable-randomization", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, keepASLR: true}},
		{args: []string{"--debug-file=/tmp/x", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, debugFile: "/tmp/x"}},
		{args: []string{"--version"}, want: options{version: true}},
		{args: []string{"--multi", ":0"}, want: options{comm: ":0", multi: true}},
		{args: []string{"--multi", "--no-startup-with-shell", ":0", "p", "a"}, want: options{comm: ":0", multi: true, noShell: true, prog: "p", args: []string{"a"}}},
		{args: []string{"--multi", "--attach", ":0", "1"}, wantErr: "do not go together"},
		{args: []string{"--bogus", ":0", "p"}, wantErr: "unknown option --bogus"},
		{args: []string{":0"}, wantErr: "missing program"},
		{args: []string{}, wantErr: "missing COMM"},
		{args: []string{"--attach", ":0", "abc"}, wantErr: `"abc" is not a process id`},
		{args: []string{"--attach", ":0"}, wantErr: "exactly one PID"},
		{args: []string{"--once=1", ":0", "p"}, wantErr: "takes no value"},
		{args: []string{"--debug-file", ":0", "p"}, wantErr: "needs =FILE"},
		{args: []string{"--vfile-root=/srv", "--no-vfile-write", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, vfileRoot: "/srv", vfileRO: true}},
		{args: []string{"--vfile-root", "/srv", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, vfileRoot: "/srv"}},
		{args: []string{"--vfile-root"}, wantErr: "needs a directory"},
		{args: []string{"--vfile-root=", ":0", "p"}, wantErr: "needs a directory"},
		{args: []string{"--no-vfile-write=1", ":0", "p"}, wantErr: "takes no value"},
		{args: []string{"--no-debug-registers", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, noDebugRegs: true}},
	}
	for _, tt := range tests {
		got, err := parseOptions(tt.args)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, "%q", tt.args)
			require.ErrorIs(t, err, errUsage)
			continue
		}
		require.NoError(t, err, "%q", tt.args)
		require.Equal(t, tt.want, got, "%q", tt.args)
	}
}
