package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"procgdb/rsp"
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
		{args: []string{"--wrapper", "env", "A=1", "--", ":0", "p", "--", "x"}, want: options{comm: ":0", prog: "p", args: []string{"--", "x"}, wrapper: []string{"env", "A=1"}}},
		{args: []string{"--once", "--wrapper", "nice", "--", "--multi", "stdio"}, want: options{comm: "stdio", once: true, multi: true, wrapper: []string{"nice"}}},
		{args: []string{"--wrapper", "env", ":0", "p"}, wantErr: "--wrapper needs a command and then --"},
		{args: []string{"--wrapper", "--", ":0", "p"}, wantErr: "--wrapper needs a command and then --"},
		{args: []string{"--wrapper=env", "--", ":0", "p"}, wantErr: "--wrapper needs a command and then --"},
		{args: []string{"--disable-packet=vCont,T", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, disable: rsp.Disabled{VCont: true, TStop: true}}},
		{args: []string{"--disable-packet=threads", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, disable: rsp.Disabled{VCont: true, TThread: true, QC: true, QfThreadInfo: true}}},
		{args: []string{"--disable-packet=bogus", ":0", "p"}, wantErr: `cannot disable "bogus"`},
		{args: []string{"--disable-packet"}, want: options{listDisable: true}},
		{args: []string{"--debug-format=none", "--event-loop-debug", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}, noTimestamps: true}},
		{args: []string{"--debug-format=none,timestamp", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}}},
		{args: []string{"--debug-format=all", ":0", "p"}, want: options{comm: ":0", prog: "p", args: []string{}}},
		{args: []string{"--debug-format=fancy", ":0", "p"}, wantErr: `debug-format "fancy"`},
		{args: []string{"--debug-format", ":0", "p"}, wantErr: "needs =all"},
		{args: []string{"--selftest"}, want: options{selftest: true}},
		{args: []string{"--startup-with-shell", "stdio", "p"}, want: options{comm: "stdio", prog: "p", args: []string{}}},
		{args: []string{"--max-clients=3", "--multi", ":0"}, want: options{comm: ":0", multi: true, maxClients: 3}},
		{args: []string{"--max-clients", "100", "--multi", ":0"}, want: options{comm: ":0", multi: true, maxClients: 100}},
		{args: []string{"--max-clients=0", "--multi", ":0"}, wantErr: `"0" is not a number of clients`},
		{args: []string{"--max-clients=x", "--multi", ":0"}, wantErr: `"x" is not a number of clients`},
		{args: []string{"--max-clients"}, wantErr: "needs a number"},
		{args: []string{"--proc-dir", "/run/procgdb", "--debug"}, want: options{procDir: "/run/procgdb", debug: true}},
		{args: []string{"--max-clients=5", "--proc-dir=/run/procgdb"}, want: options{procDir: "/run/procgdb", maxClients: 5}},
		{args: []string{"--proc-dir"}, wantErr: "needs a directory"},
		{args: []string{"--proc-dir", "/run/procgdb", ":0"}, wantErr: "takes no COMM"},
		{args: []string{"--multi", "--proc-dir", "/run/procgdb"}, wantErr: "none of --multi"},
		{args: []string{"--wrapper", "env", "--", "--proc-dir", "/run/procgdb"}, wantErr: "under no wrapper"},
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

// The README's usage section and procgdb --help name the same options.
func TestUsageMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	section := string(readme)
	section = section[strings.Index(section, "## Usage\n"):]
	section = section[:strings.Index(section, "### A session\n")]
	optionRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	names := func(text string) []string {
		ns := optionRE.FindAllString(text, -1)
		slices.Sort(ns)
		return slices.Compact(ns)
	}
	require.Equal(t, names(usage), names(section))
	// And parseOptions takes each of them.
	for _, name := range names(usage) {
		args := []string{name}
		switch name {
		case "--wrapper":
			args = append(args, "env", "--")
		case "--debug-file", "--vfile-root", "--proc-dir":
			args[0] += "=x"
		case "--debug-format":
			args[0] += "=none"
		case "--disable-packet":
			args[0] += "=T"
		case "--max-clients":
			args[0] += "=2"
		}
		if name != "--proc-dir" {
			args = append(args, ":0", "1")
		}
		_, err := parseOptions(args)
		require.NoError(t, err, "%s in the usage", name)
	}
}
