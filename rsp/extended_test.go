package rsp

import (
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"procgdb/inferior"
)

func hexs(s string) string { return hex.EncodeToString([]byte(s)) }

func TestParseVRun(t *testing.T) {
	tests := []struct {
		in   string
		want vRunRequest
		err  error
	}{
		{"", vRunRequest{}, nil},
		{hexs("/bin/ls"), vRunRequest{program: "/bin/ls"}, nil},
		{hexs("/bin/ls") + ";" + hexs("-l") + ";;" + hexs("*.c"), vRunRequest{program: "/bin/ls", args: []string{"-l", "", "*.c"}}, nil},
		{";" + hexs("again"), vRunRequest{args: []string{"again"}}, nil},
		{"2f6", vRunRequest{}, errHexOdd},
		{hexs("p") + ";zz", vRunRequest{}, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseVRun([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseVRun(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseVRun(f *testing.F) {
	f.Add([]byte(hexs("/bin/ls") + ";" + hexs("-l") + ";;"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseVRun(in)
		if err != nil {
			return
		}
		again, err := parseVRun(appendVRun(nil, r))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, r)
		}
	})
}

func TestParseVAttach(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  error
	}{
		{"1f2", 0x1f2, nil},
		{"0", 0, errMalformed},
		{"", 0, errHexEmpty},
		{"-1", 0, errHexDigit},
		{"100000000", 0, errHexOverflow},
	}
	for _, tt := range tests {
		got, err := parseVAttach([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseVAttach(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseVAttach(f *testing.F) {
	f.Add([]byte("1f2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pid, err := parseVAttach(in)
		if err != nil {
			return
		}
		if again, err := parseVAttach(appendHexUint(nil, uint64(pid))); err != nil || again != pid {
			t.Fatalf("round trip of %q: %d, %v; want %d", in, again, err, pid)
		}
	})
}

func TestParseEnv(t *testing.T) {
	sets := []struct {
		in   string
		want string
		err  error
	}{
		{hexs("FOO=bar"), "FOO=bar", nil},
		{hexs("FOO="), "FOO=", nil},
		{hexs("FOO=a=b"), "FOO=a=b", nil},
		{hexs("FOO"), "", errMalformed},
		{hexs("=x"), "", errMalformed},
		{"", "", errMalformed},
		{"4", "", errHexOdd},
	}
	for _, tt := range sets {
		got, err := parseEnvSet([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseEnvSet(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	unsets := []struct {
		in   string
		want string
		err  error
	}{
		{hexs("HOME"), "HOME", nil},
		{hexs("A=B"), "", errMalformed},
		{"", "", errMalformed},
		{"xx", "", errHexDigit},
	}
	for _, tt := range unsets {
		got, err := parseEnvUnset([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parseEnvUnset(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseEnvSet(f *testing.F) {
	f.Add([]byte(hexs("FOO=bar")))
	f.Fuzz(func(t *testing.T, in []byte) {
		kv, err := parseEnvSet(in)
		if err != nil {
			return
		}
		if again, err := parseEnvSet(appendHex(nil, []byte(kv))); err != nil || again != kv {
			t.Fatalf("round trip of %q: %q, %v; want %q", in, again, err, kv)
		}
		e := environ{"A=1"}.set(kv)
		if !slices.Contains(e, kv) {
			t.Fatalf("set(%q) = %q", kv, e)
		}
	})
}

func FuzzParseEnvUnset(f *testing.F) {
	f.Add([]byte(hexs("HOME")))
	f.Fuzz(func(t *testing.T, in []byte) {
		name, err := parseEnvUnset(in)
		if err != nil {
			return
		}
		if again, err := parseEnvUnset(appendHex(nil, []byte(name))); err != nil || again != name {
			t.Fatalf("round trip of %q: %q, %v; want %q", in, again, err, name)
		}
		for _, kv := range (environ{name + "=1", "B=2"}).unset(name) {
			if envKey(kv) == name {
				t.Fatalf("unset(%q) left %q", name, kv)
			}
		}
	})
}

func TestEnviron(t *testing.T) {
	e := environ{"A=1", "B=2", "A=3", "C"}
	e = e.set("A=9")
	if want := (environ{"A=9", "B=2", "C"}); !slices.Equal(e, want) {
		t.Errorf("set A=9: %q, want %q", e, want)
	}
	e = e.set("D=4")
	e = e.unset("B")
	e = e.unset("C")
	e = e.unset("none")
	if want := (environ{"A=9", "D=4"}); !slices.Equal(e, want) {
		t.Errorf("after unsets: %q, want %q", e, want)
	}
}

func TestParseFlag(t *testing.T) {
	for in, want := range map[string]bool{"0": false, "1": true} {
		if got, err := parseFlag([]byte(in)); err != nil || got != want {
			t.Errorf("parseFlag(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2", "01", "1;"} {
		if _, err := parseFlag([]byte(in)); !errors.Is(err, errMalformed) {
			t.Errorf("parseFlag(%q): %v, want malformed", in, err)
		}
	}
}

// emptyLaunchTarget returns a launchTarget with no process, as procgdb
// --multi starts.
func emptyLaunchTarget() *launchTarget {
	lt := newLaunchTarget()
	lt.procs = nil
	return lt
}

// fakeRegs is what a T reply expedites for a thread of the fake target at
// rip (in the reply's hex; 0x401000 plus the thread id): rbp and rsp are
// fixed, the other registers zero.
func fakeRegs(rip string) string { return expedite("1000fe7f00000000", "0000fe7f00000000", rip) }

func TestExtendedNotOffered(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.negotiate(gdbFeatures)
	for _, p := range []string{"!", "vRun;" + hexs("/bin/true"), "vAttach;1f2", "R00", "QEnvironmentReset",
		"QEnvironmentHexEncoded:" + hexs("A=1"), "QSetWorkingDir:", "QStartupWithShell:1", "QDisableRandomization:1",
		"QThreadEvents:1", "QCatchSyscalls:1"} {
		h.expect(p, "")
	}
}

func TestExtendedRun(t *testing.T) {
	lt := emptyLaunchTarget()
	h := startLaunchSession(t, lt, Config{Environ: []string{"A=1", "B=2"}, Shell: "/bin/zsh"})
	h.negotiate(gdbFeatures)
	h.expect("?", "W00")
	h.expect("Hgp0.0", "OK")
	h.expect("!", "OK")
	h.expect("vRun;", "E02") // no program yet
	for _, p := range []string{
		"QDisableRandomization:0", "QStartupWithShell:1", "QEnvironmentReset",
		"QEnvironmentHexEncoded:" + hexs("C=3"), "QEnvironmentHexEncoded:" + hexs("A=9"),
		"QEnvironmentUnset:" + hexs("B"), "QSetWorkingDir:" + hexs("/tmp"),
	} {
		h.expect(p, "OK")
	}
	first := "T05thread:p200.200;" + fakeRegs("0012400000000000") + "core:0;"
	h.expect("vRun;"+hexs("/bin/prog")+";"+hexs("a")+";;"+hexs("*.c"), first)
	want := LaunchSpec{Program: "/bin/prog", Args: []string{"a", "", "*.c"}, Env: []string{"A=9", "C=3"},
		Dir: "/tmp", Shell: "/bin/zsh"}
	if got := lt.lastLaunch(); !reflect.DeepEqual(got, want) {
		t.Errorf("launched %+v\nwant     %+v", got, want)
	}
	h.expect("qAttached:200", "0")
	h.expect("?", first)
	h.expect("qC", "QCp200.200")
	h.expect("qXfer:exec-file:read:200:0,fff", "l/proc/512/exe")

	// The exit of the last process leaves an extended session serving.
	lt.stops <- inferior.Event{Kind: inferior.EventExited, PID: 0x200, ExitCode: 7}
	h.expect("vCont;c:p200.-1", "W07;process:200")
	h.expect("?", "W07;process:200")
	h.expect("qfThreadInfo", "l")
	h.expect("Hgp0.0", "OK")

	// An empty program name reruns the last program with the new
	// arguments, in the settings of the moment.
	h.expect("QStartupWithShell:0", "OK")
	h.expect("QEnvironmentReset", "OK")
	h.expect("vRun;;"+hexs("b"), "T05thread:p201.201;"+fakeRegs("0112400000000000")+"core:1;")
	want = LaunchSpec{Program: "/bin/prog", Args: []string{"b"}, Env: []string{"A=1", "B=2"}, Dir: "/tmp"}
	if got := lt.lastLaunch(); !reflect.DeepEqual(got, want) {
		t.Errorf("launched %+v\nwant     %+v", got, want)
	}
	// vKill leaves it serving too.
	h.expect("vKill;201", "OK")
	h.expect("?", "W00")
	h.expect("vRun;"+hexs("/nonexistent"), "E0f")
	h.expect("?", "W00")

	h.client.Close()
	if out, err := h.outcome(); out != OutcomeDisconnected || err != nil {
		t.Errorf("Serve = %v, %v; want disconnected", out, err)
	}
}

func TestExtendedKillAndRestart(t *testing.T) {
	lt := emptyLaunchTarget()
	h := startLaunchSession(t, lt, Config{Program: "/bin/default", Args: []string{"x"}})
	h.negotiate(gdbFeatures)
	h.expect("R00", "") // outside extended mode: unsupported
	h.expect("!", "OK")
	// R runs the command line's program, and has no reply: the next
	// reply is the one to '?'.
	if err := h.c.Send("R00"); err != nil {
		t.Fatal(err)
	}
	h.expect("?", "T05thread:p200.200;"+fakeRegs("0012400000000000")+"core:0;")
	if got := lt.lastLaunch(); got.Program != "/bin/default" || !slices.Equal(got.Args, []string{"x"}) || got.Shell != "/bin/sh" || !got.DisableASLR {
		t.Errorf("R launched %+v", got)
	}
	if err := h.c.Send("R00"); err != nil {
		t.Fatal(err)
	}
	h.expect("qfThreadInfo", "mp201.201")
	if !strings.Contains(lt.called(), "Kill 512") {
		t.Errorf("R did not kill the old process: %q", lt.called())
	}
	// k kills every process and, in extended mode, has no reply either.
	h.expect("vAttach;300", "T00thread:p300.300;"+fakeRegs("0013400000000000")+"core:0;")
	if err := h.c.Send("k"); err != nil {
		t.Fatal(err)
	}
	h.expect("?", "W00")
	if got := lt.Processes(); len(got) != 0 {
		t.Errorf("processes after k: %v", got)
	}
	h.expect("vRun;", "T05thread:p202.202;"+fakeRegs("0212400000000000")+"core:2;")
	if got := lt.lastLaunch(); got.Program != "/bin/default" || len(got.Args) != 0 {
		t.Errorf("vRun; launched %+v", got)
	}
}

func TestExtendedAttachDetach(t *testing.T) {
	lt := emptyLaunchTarget()
	h := startLaunchSession(t, lt, Config{})
	h.negotiate(gdbFeatures)
	h.expect("!", "OK")
	h.expect("vAttach;1", "E0f")
	h.expect("vAttach;0", "E01")
	attached := "T00thread:p300.300;" + fakeRegs("0013400000000000") + "core:0;"
	h.expect("vAttach;300", attached)
	h.expect("vAttach;300", "E02")
	h.expect("qAttached:300", "1")
	h.expect("qAttached", "1")
	h.expect("?", attached)
	h.expect("qfThreadInfo", "mp300.300,p300.301")
	h.expect("vRun;"+hexs("/bin/prog"), "T05thread:p200.200;"+fakeRegs("0012400000000000")+"core:0;")
	h.expect("qAttached:200", "0")
	h.expect("qfThreadInfo", "mp300.300,p300.301,p200.200")
	h.expect("D;300", "OK")
	h.expect("qfThreadInfo", "mp200.200")
	h.expect("qAttached:300", "0")
	h.expect("D", "OK")
	h.expect("qfThreadInfo", "l")
	h.expect("?", "W00")
	if !strings.Contains(lt.called(), "Detach 768\nDetach 512") {
		t.Errorf("calls %q", lt.called())
	}
}

// TestLaunchErrorText: the error of a vRun or vAttach the target refuses
// is the target's, which names the program or process once, and which a
// client that accepts text reads as it is.
func TestLaunchErrorText(t *testing.T) {
	h := startLaunchSession(t, emptyLaunchTarget(), Config{})
	h.negotiate(gdbFeatures + ";error-message+")
	h.expect("!", "OK")
	h.expect("vRun;"+hexs("/nonexistent"), "E.vRun: exec /nonexistent: no such file or directory")
	h.expect("vAttach;1", "E.vAttach: attach 1: operation not permitted")
}

// TestRunWithoutExtendedMode: vRun and vAttach start a process in a
// session that is not extended only while it has none, and the exit of
// that process ends the session.
func TestRunWithoutExtendedMode(t *testing.T) {
	t.Run("busy", func(t *testing.T) {
		h := startLaunchSession(t, newLaunchTarget(), Config{})
		h.negotiate(gdbFeatures)
		h.expect("vRun;"+hexs("/bin/prog"), "E02")
		h.expect("vAttach;300", "E02")
		h.expect("vAttach;64", "E02")
	})
	t.Run("extended without multiprocess", func(t *testing.T) {
		h := startLaunchSession(t, newLaunchTarget(), Config{})
		h.expect("!", "OK")
		h.expect("vRun;"+hexs("/bin/prog"), "E02")
	})
	t.Run("idle", func(t *testing.T) {
		lt := emptyLaunchTarget()
		h := startLaunchSession(t, lt, Config{NoStartupWithShell: true})
		h.negotiate(gdbFeatures)
		h.expect("vRun;"+hexs("/bin/prog"), "T05thread:p200.200;"+fakeRegs("0012400000000000")+"core:0;")
		got := lt.lastLaunch()
		if got.Shell != "" || !slices.Equal(got.Env, os.Environ()) || got.Dir != "" {
			t.Errorf("launched %+v; want no shell, procgdb's environment", got)
		}
		lt.stops <- inferior.Event{Kind: inferior.EventExited, PID: 0x200}
		h.expect("c", "W00;process:200")
		if out, err := h.outcome(); out != OutcomeExited || err != nil {
			t.Errorf("Serve = %v, %v; want exited", out, err)
		}
	})
}
