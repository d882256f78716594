package rsp

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Extended mode, per the manual's "Packets" section ('!', R, vRun,
// vAttach) and "General Query Packets" (QDisableRandomization,
// QEnvironmentHexEncoded, QEnvironmentUnset, QEnvironmentReset,
// QSetWorkingDir, QStartupWithShell). lldb calls QDisableRandomization
// QSetDisableASLR.
//
// '!' makes the session persistent: it outlives its processes (the exit
// of the last one, k, vKill and D leave it serving), and the client may
// start programs (vRun, R) and attach to processes (vAttach). These
// packets are offered only when the Target is a Launcher. vRun and
// vAttach are also accepted outside extended mode while no process is
// being debugged; like gdbserver, procgdb refuses them while a process is
// being debugged unless the session is extended and multiprocess.
//
// The launch settings belong to the session. gdb sends them all before
// each vRun: QDisableRandomization, QStartupWithShell, QEnvironmentReset
// followed by the variables the user set and unset, and QSetWorkingDir.
// vRun's reply is the stop of the new process's first thread (T05, as a
// program stopped at its first instruction by the exec trap); vAttach's
// is a stop with signal 0 (T00), which gdb takes as the attach stop. R
// gets no reply.
//
// gdb 13 sends vRun's arguments split as its own `run` line splits them,
// quotes removed, and the program receives each as it was sent, with
// startup-with-shell on or off (see LaunchSpec.Shell): a client's
// arguments never become shell syntax.

// extendedPackets are the dispatch-table rows of extended mode and the
// launch settings.
func extendedPackets() []entry {
	return []entry{
		{prefix: "!", enabled: isLauncher, handle: (*Session).extendedMode},
		{prefix: "vRun;", enabled: isLauncher, handle: (*Session).vRun},
		{prefix: "vAttach;", enabled: isLauncher, handle: (*Session).vAttach},
		{prefix: "R", enabled: isExtendedLauncher, handle: (*Session).restart},
		{prefix: "QEnvironmentHexEncoded:", feature: "QEnvironmentHexEncoded+", enabled: isLauncher, handle: (*Session).envSet},
		{prefix: "QEnvironmentUnset:", feature: "QEnvironmentUnset+", enabled: isLauncher, handle: (*Session).envUnset},
		{prefix: "QEnvironmentReset", feature: "QEnvironmentReset+", enabled: isLauncher, handle: (*Session).envReset},
		{prefix: "QSetWorkingDir:", feature: "QSetWorkingDir+", enabled: isLauncher, handle: (*Session).setWorkingDir},
		{prefix: "QStartupWithShell:", feature: "QStartupWithShell+", enabled: isLauncher, handle: (*Session).startupWithShell},
		{prefix: "QDisableRandomization:", feature: "QDisableRandomization+", enabled: isLauncher, handle: (*Session).disableRandomization},
		{prefix: "QSetDisableASLR:", handle: (*Session).setDisableASLR},
	}
}

// defaultShell starts programs when startup-with-shell is on and
// Config.Shell is empty.
const defaultShell = "/bin/sh"

// extendedState is a session's extended-mode state.
type extendedState struct {
	// on is set by '!'.
	on bool
	// program and args are what R and a vRun without a program name
	// run: the last program started, with its arguments.
	program string
	args    []string
	// base is the environment QEnvironmentReset returns to; env is the
	// one the next program gets.
	base, env environ
	// dir is the working directory of the next program ("" for the
	// target's default).
	dir          string
	disableASLR  bool
	withShell    bool
	shell        string
	attachedPIDs map[int]bool // processes vAttach attached to
}

// newExtendedState returns the state a session starts with.
func newExtendedState(cfg Config) extendedState {
	base := environ(cfg.Environ)
	if base == nil {
		base = environ(os.Environ())
	}
	shell := cfg.Shell
	if shell == "" {
		shell = defaultShell
	}
	return extendedState{
		program:      cfg.Program,
		args:         slices.Clone(cfg.Args),
		base:         slices.Clone(base),
		env:          slices.Clone(base),
		disableASLR:  true,
		withShell:    !cfg.NoStartupWithShell,
		shell:        shell,
		attachedPIDs: map[int]bool{},
	}
}

// spec returns how the last program is to be started now.
func (x *extendedState) spec() LaunchSpec {
	spec := LaunchSpec{
		Program:     x.program,
		Args:        slices.Clone(x.args),
		Env:         slices.Clone(x.env),
		Dir:         x.dir,
		DisableASLR: x.disableASLR,
	}
	if x.withShell {
		spec.Shell = x.shell
	}
	return spec
}

// environ is a program's environment: KEY=VALUE strings, in order.
type environ []string

// envKey returns the name of the variable kv sets.
func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// set sets the variable that kv (KEY=VALUE) names, in place if it is
// there already, else at the end.
func (e environ) set(kv string) environ {
	key := envKey(kv)
	i := slices.IndexFunc(e, func(s string) bool { return envKey(s) == key })
	if i < 0 {
		return append(e, kv)
	}
	e[i] = kv
	rest := slices.DeleteFunc(e[i+1:], func(s string) bool { return envKey(s) == key })
	return e[:i+1+len(rest)]
}

// unset removes every definition of variable key.
func (e environ) unset(key string) environ {
	return slices.DeleteFunc(e, func(s string) bool { return envKey(s) == key })
}

// vRunRequest is a vRun request.
type vRunRequest struct {
	program string // "" for the last program
	args    []string
}

// parseVRun decodes what follows "vRun;": "program[;argument]...", each
// part hex-encoded, any of them possibly empty.
func parseVRun(b []byte) (vRunRequest, error) {
	var r vRunRequest
	for i, field := range bytes.Split(b, []byte(";")) {
		s, err := parseHexString(field)
		if err != nil {
			if i == 0 {
				return vRunRequest{}, fmt.Errorf("program %q: %w", field, err)
			}
			return vRunRequest{}, fmt.Errorf("argument %d %q: %w", i, field, err)
		}
		if i == 0 {
			r.program = s
		} else {
			r.args = append(r.args, s)
		}
	}
	return r, nil
}

// appendVRun encodes r as parseVRun decodes it.
func appendVRun(dst []byte, r vRunRequest) []byte {
	dst = appendHex(dst, []byte(r.program))
	for _, a := range r.args {
		dst = appendHex(append(dst, ';'), []byte(a))
	}
	return dst
}

// parseVAttach decodes what follows "vAttach;": a process id in hex, not
// zero.
func parseVAttach(b []byte) (int, error) {
	pid, err := parseHexInt(b)
	if err != nil {
		return 0, fmt.Errorf("process id %q: %w", b, err)
	}
	if pid == 0 {
		return 0, fmt.Errorf("process id 0: %w", errMalformed)
	}
	return pid, nil
}

// parseHexString decodes hex-encoded text.
func parseHexString(b []byte) (string, error) {
	s, err := decodeHex(make([]byte, 0, len(b)/2), b)
	if err != nil {
		return "", err
	}
	return string(s), nil
}

// parseEnvSet decodes QEnvironmentHexEncoded's argument: hex-encoded
// "NAME=VALUE" with a non-empty name.
func parseEnvSet(b []byte) (string, error) {
	kv, err := parseHexString(b)
	if err != nil {
		return "", fmt.Errorf("variable %q: %w", b, err)
	}
	name, _, ok := strings.Cut(kv, "=")
	if !ok || name == "" {
		return "", fmt.Errorf("variable %q: want NAME=VALUE: %w", kv, errMalformed)
	}
	return kv, nil
}

// parseEnvUnset decodes QEnvironmentUnset's argument: a hex-encoded
// variable name, not empty and without '='.
func parseEnvUnset(b []byte) (string, error) {
	name, err := parseHexString(b)
	if err != nil {
		return "", fmt.Errorf("variable %q: %w", b, err)
	}
	if name == "" || strings.Contains(name, "=") {
		return "", fmt.Errorf("variable name %q: %w", name, errMalformed)
	}
	return name, nil
}

// parseFlag decodes the 0 or 1 of QDisableRandomization,
// QStartupWithShell, QThreadEvents.
func parseFlag(b []byte) (bool, error) {
	switch string(b) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%q: want 0 or 1: %w", b, errMalformed)
}

// Errors of extended mode.
var (
	errNoProgram = &protoError{codeInvalid, "no program to run"}
	errBusy      = &protoError{codeInvalid, "already debugging a process"}
	errDebugged  = &protoError{codeInvalid, "process is already being debugged"}
)

func isLauncher(s *Session) bool {
	_, ok := s.t.(Launcher)
	return ok
}

func isExtendedLauncher(s *Session) bool { return s.ext.on && isLauncher(s) }

// extendedMode answers '!'.
func (s *Session) extendedMode(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	s.ext.on = true
	return okReply
}

// mayStart checks that the session may start or attach to a process.
func (s *Session) mayStart() error {
	if (!s.ext.on || !s.multiprocess) && len(s.t.Processes()) > 0 {
		return errBusy
	}
	return nil
}

// vRun answers vRun: the program starts, and the reply is its first stop.
func (s *Session) vRun(args []byte) reply {
	r, err := parseVRun(args)
	if err != nil {
		return errorReply(err)
	}
	if err := s.mayStart(); err != nil {
		return errorReply(err)
	}
	if r.program != "" {
		s.ext.program = r.program
	}
	if s.ext.program == "" {
		return errorReply(errNoProgram)
	}
	s.ext.args = r.args
	ev, err := s.launch()
	if err != nil {
		return errorReply(err)
	}
	return s.initialStop(ev)
}

// launch starts the last program with the current settings and returns
// its first stop.
func (s *Session) launch() (inferior.Event, error) {
	spec := s.ext.spec()
	pid, err := s.t.(Launcher).Launch(spec)
	if err != nil {
		return inferior.Event{}, err // it names the program (Launcher)
	}
	s.log.Debug("launched", "program", spec.Program, "pid", pid)
	return s.firstThreadStop(pid, int(unix.SIGTRAP))
}

// firstThreadStop returns a stop of process pid's first thread with sig.
func (s *Session) firstThreadStop(pid, sig int) (inferior.Event, error) {
	threads, err := s.t.Threads(pid)
	if err != nil {
		return inferior.Event{}, fmt.Errorf("threads of %d: %w", pid, err)
	}
	if len(threads) == 0 {
		return inferior.Event{}, fmt.Errorf("process %d has no threads: %w", pid, errUnknownProcess)
	}
	return inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: threads[0], Signal: sig}, nil
}

// initialStop records the stop of a process just started or attached to
// and replies with it.
func (s *Session) initialStop(ev inferior.Event) reply {
	s.dropSnapshots()
	s.recordStop(ev)
	s.buf = s.appendStop(s.buf[:0], ev)
	return dataReply(s.buf)
}

// vAttach answers vAttach;pid: the reply is the stop of its first thread.
func (s *Session) vAttach(args []byte) reply {
	pid, err := parseVAttach(args)
	if err != nil {
		return errorReply(err)
	}
	if slices.Contains(s.t.Processes(), pid) {
		return errorReply(fmt.Errorf("process %d: %w", pid, errDebugged))
	}
	if err := s.mayStart(); err != nil {
		return errorReply(err)
	}
	if err := s.t.(Launcher).Attach(pid); err != nil {
		// The target says which process and why (Launcher).
		return errorReply(err)
	}
	s.ext.attachedPIDs[pid] = true
	if s.ns.on {
		return s.attachedNonStop(pid)
	}
	ev, err := s.firstThreadStop(pid, 0)
	if err != nil {
		return errorReply(err)
	}
	return s.initialStop(ev)
}

// restart answers R: every process is killed and the last program runs
// again. R has no reply; the client asks for the new stop with '?'.
func (s *Session) restart([]byte) reply {
	if err := s.killAll(); err != nil {
		s.log.Warn("restart: kill", "err", err)
	}
	s.forgetAll()
	if s.ext.program == "" {
		s.log.Warn("restart: no program to run")
		return reply{kind: replyNone}
	}
	ev, err := s.launch()
	if err != nil {
		s.log.Warn("restart", "err", err)
		return reply{kind: replyNone}
	}
	s.recordStop(ev)
	return reply{kind: replyNone}
}

// envSet answers QEnvironmentHexEncoded.
func (s *Session) envSet(args []byte) reply {
	kv, err := parseEnvSet(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.env = s.ext.env.set(kv)
	return okReply
}

// envUnset answers QEnvironmentUnset.
func (s *Session) envUnset(args []byte) reply {
	name, err := parseEnvUnset(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.env = s.ext.env.unset(name)
	return okReply
}

// envReset answers QEnvironmentReset: back to the environment the
// session started with.
func (s *Session) envReset(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	s.ext.env = slices.Clone(s.ext.base)
	return okReply
}

// setWorkingDir answers QSetWorkingDir: a hex-encoded directory, or
// nothing for the target's default.
func (s *Session) setWorkingDir(args []byte) reply {
	dir, err := parseHexString(args)
	if err != nil {
		return errorReply(fmt.Errorf("directory %q: %w", args, err))
	}
	s.ext.dir = dir
	return okReply
}

// startupWithShell answers QStartupWithShell.
func (s *Session) startupWithShell(args []byte) reply {
	on, err := parseFlag(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.withShell = on
	return okReply
}

// disableRandomization answers QDisableRandomization.
func (s *Session) disableRandomization(args []byte) reply {
	on, err := parseFlag(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.disableASLR = on
	return okReply
}

// setDisableASLR answers QSetDisableASLR, lldb's name for
// QDisableRandomization.
func (s *Session) setDisableASLR(args []byte) reply {
	on, err := parseFlag(args)
	if err != nil {
		return errorReply(err)
	}
	s.ext.disableASLR = on
	return okReply
}
