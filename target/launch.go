package target

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
)

// ptraceOptions are set on every tracee, at attach time:
//   - TRACESYSGOOD tells syscall stops from real SIGTRAPs;
//   - TRACECLONE follows new threads from their first instruction;
//   - TRACEFORK and TRACEVFORK catch children, which inherit the
//     breakpoints and must lose them before they run;
//   - TRACEVFORKDONE says when a vfork child stops sharing memory;
//   - TRACEEXEC turns exec into an event instead of a stray SIGTRAP;
//   - TRACEEXIT stops each thread as it exits, so a leader that exits
//     before its threads is not waited for as if it could still stop.
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEVFORKDONE |
	unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEEXIT

// addrNoRandomize is the personality flag that turns off ASLR.
const addrNoRandomize = 0x0040000

// LaunchOptions say how to start a program.
type LaunchOptions struct {
	// Path is the program: a name without a slash is the file of that
	// name in the current directory if there is one (ProgramPath), else
	// a program in $PATH.
	Path string
	Args []string // argv, including argv[0]; defaults to {Path}
	Env  []string // environment; nil means procgdb's own
	Dir  string   // working directory; "" means procgdb's own
	// Stdin, Stdout and Stderr of the program; nil means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// DisableASLR runs the program without address space randomization,
	// as gdb does by default, so addresses repeat from run to run.
	DisableASLR bool
	// Foreground makes the program's process group the foreground group
	// of the terminal on Stdin, so it can read from it.
	Foreground bool
	// Shell, when set, starts the program as `Shell -c "exec PATH ARGS"`,
	// each argument quoted for the shell (shellWord), as gdbserver does
	// with startup-with-shell: the program receives its arguments as they
	// are, and the shell expands nothing in them. The shell also says why
	// a program cannot be run, and exits (126 or 127: a
	// StartupExitError).
	Shell string
	// Wrapper, when set, starts the program as `WRAPPER... PATH ARGS`
	// (gdbserver's --wrapper), env VAR=VALUE for example. The wrapper must
	// exec the program: the program's exec, not the wrapper's, is where
	// the program is reported stopped.
	Wrapper []string
	// Credential, when set, are the ids the program runs with (and the
	// shell or wrapper that starts it, and the change of directory to
	// Dir): those of the client procgdb starts it for, not procgdb's.
	Credential *syscall.Credential
	// NoNewPrivs starts the program with no_new_privs, so that neither
	// set-user-ID bits nor file capabilities give it or its children
	// privileges, as a privileged tracer's tracee would otherwise get
	// them. It is set on the tracer's thread, which forks the program,
	// for good: every program that tracer starts from then on has it.
	NoNewPrivs bool
}

// StartupExitError is the error of a Launch whose program, or the shell
// or wrapper that was to start it, exited or was killed before the
// program's first instruction: a shell that could not run it, for
// example.
type StartupExitError struct {
	Path   string
	Code   int         // its exit status, when Signal is 0
	Signal unix.Signal // the signal that killed it
}

func (e *StartupExitError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("launch %s: killed by %v during startup", e.Path, e.Signal)
	}
	return fmt.Sprintf("launch %s: exited with status %d during startup", e.Path, e.Code)
}

// ProgramPath is the program that Launch runs for name, as gdbserver
// finds it: a name without a slash that names a file in the current
// directory is that file (its absolute path); any other name is returned
// as it is, for a search of $PATH where it has no slash.
func ProgramPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	if fi, err := os.Stat(name); err == nil && !fi.IsDir() {
		if abs, err := filepath.Abs(name); err == nil {
			return abs
		}
	}
	return name
}

// findProgram returns the path of the program name, checking that it can
// be run unless a shell is to start it (the shell then says what is
// wrong, as it would for gdbserver).
func findProgram(name string, viaShell bool) (string, error) {
	path := ProgramPath(name)
	if !strings.Contains(path, "/") {
		found, err := exec.LookPath(path)
		switch {
		case err == nil:
			return found, nil
		case viaShell:
			return path, nil
		}
		return "", fmt.Errorf("%s: in neither the current directory nor $PATH: %w", name, errnoError{unix.ENOENT})
	}
	if viaShell {
		return path, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, cError(err))
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s: a directory: %w", path, errnoError{unix.EACCES})
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return "", fmt.Errorf("%s: %w", path, cError(err))
	}
	return path, nil
}

// errnoError spells an errno as the C library's strerror does ("No such
// file or directory"): tools that start a stub match that text, and Go
// spells it in lower case.
type errnoError struct{ errno unix.Errno }

func (e errnoError) Error() string {
	s := e.errno.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (e errnoError) Unwrap() error { return e.errno }

// cError returns the errno err carries in the C library's spelling, or
// err when it carries none.
func cError(err error) error {
	if errno, ok := errors.AsType[unix.Errno](err); ok {
		return errnoError{errno}
	}
	return err
}

// The launcher: procgdb cannot run code in a forked child between fork
// and exec, yet PTRACE_SEIZE needs the child before it execs. So the child
// starts as a shell that says it is running (a byte on fd 4: its own exec
// is over, so the next exec event is the program's) and then waits on a
// pipe (fd 3); the tracer seizes it, closes the pipe, and the shell execs
// the program, which stops at the exec event before its first
// instruction.
const launcherScript = `echo >&4; read _ <&3; exec "$0" "$@" 3<&- 4>&-`

// Launch starts a program stopped at its first instruction (the dynamic
// linker's entry) and returns its PID.
func (c *Ctl) Launch(o LaunchOptions) (int, error) {
	path, err := findProgram(o.Path, o.Shell != "")
	if err != nil {
		return 0, fmt.Errorf("launch %w", err)
	}
	args := o.Args
	if len(args) == 0 {
		args = []string{o.Path}
	}
	execs := 1
	var wrapper []string
	if len(o.Wrapper) > 0 {
		// The launcher execs the wrapper, which execs the program.
		w, err := exec.LookPath(o.Wrapper[0])
		if err != nil {
			return 0, fmt.Errorf("launch %s: wrapper %s: %w", o.Path, o.Wrapper[0], cError(err))
		}
		wrapper = append([]string{w}, o.Wrapper[1:]...)
		execs++
	}
	if o.Shell != "" {
		// The launcher execs the shell, which execs the wrapper or the
		// program; every word is quoted for the shell.
		var cmd strings.Builder
		cmd.WriteString("exec")
		for _, w := range slices.Concat(wrapper, []string{path}, args[1:]) {
			cmd.WriteByte(' ')
			cmd.WriteString(shellWord(w))
		}
		path, args = o.Shell, []string{o.Shell, "-c", cmd.String()}
		execs++
	} else if wrapper != nil {
		path, args = wrapper[0], append(append(wrapper, path), args[1:]...)
	}
	if err := c.t.start(); err != nil {
		return 0, fmt.Errorf("launch %s: %w", o.Path, err)
	}
	return c.t.launch(path, args, execs, o)
}

// launch must run on the loop: personality is inherited from the
// thread that forks, and the child must be seized by this thread.
func (t *Tracer) launch(path string, args []string, execs int, o LaunchOptions) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", path, err)
	}
	defer r.Close()
	defer w.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", path, err)
	}
	defer readyR.Close()
	defer readyW.Close()

	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", path, err)
	}
	defer devnull.Close()
	orNull := func(f *os.File) *os.File {
		if f == nil {
			return devnull
		}
		return f
	}
	attr := &os.ProcAttr{
		Dir:   o.Dir,
		Env:   o.Env,
		Files: []*os.File{orNull(o.Stdin), orNull(o.Stdout), orNull(o.Stderr), r, readyW},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	if o.Foreground {
		attr.Sys.Foreground = true
		attr.Sys.Ctty = 0
	}
	if attr.Env == nil {
		attr.Env = os.Environ()
	}
	attr.Sys.Credential = o.Credential
	if o.NoNewPrivs {
		// A child inherits it from the thread that forks it: this one.
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return 0, fmt.Errorf("launch %s: no_new_privs: %w", path, err)
		}
	}

	if o.DisableASLR {
		old, err := personality(0xffffffff)
		if err == nil {
			_, err = personality(old | addrNoRandomize)
		}
		if err != nil {
			return 0, fmt.Errorf("launch %s: disable randomization: %w", path, err)
		}
		defer personality(old)
	}
	proc, err := os.StartProcess("/bin/sh", append([]string{"sh", "-c", launcherScript, path}, args[1:]...), attr)
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", path, err)
	}
	pid := proc.Pid
	proc.Release() // the tracer reaps it with wait4, not os.Process.Wait

	readyW.Close()
	fail := func(err error) (int, error) {
		unix.Kill(pid, unix.SIGKILL)
		t.wait4(pid)
		return 0, fmt.Errorf("launch %s: %w", path, err)
	}
	// The shell's own exec is over once it writes; if it died instead,
	// the read ends with EOF and the wait below reports how.
	var b [1]byte
	readyR.Read(b[:])
	if err := ptraceSeize(pid, ptraceOptions|unix.PTRACE_O_EXITKILL); err != nil {
		return fail(fmt.Errorf("seize: %w", err))
	}
	w.Close() // the shell reads end-of-file and execs the program
	for {
		ws, err := t.wait4(pid)
		if err != nil {
			return fail(err)
		}
		we := classify(pid, ws)
		switch we.kind {
		case waitExec:
			if execs--; execs == 0 {
				return pid, t.addProcess(pid, false, []int{pid})
			}
		case waitExited:
			return 0, &StartupExitError{Path: o.Path, Code: we.code}
		case waitKilled:
			return 0, &StartupExitError{Path: o.Path, Signal: we.sig}
		case waitFork, waitVFork, waitClone:
			// The shell's own children are not the program: let them go.
			if msg, err := unix.PtraceGetEventMsg(pid); err == nil {
				t.wait4(int(msg))
				ptraceDetach(int(msg), 0)
			}
		}
		// Anything before the exec (a signal to the shell) is not the
		// program's business: let the shell go on.
		sig := 0
		if we.kind == waitSignal && we.sig != unix.SIGTRAP {
			sig = int(we.sig)
		}
		if err := unix.PtraceCont(pid, sig); err != nil {
			return fail(err)
		}
	}
}

// addProcess registers a process whose threads are all stopped.
// Must run on the loop.
func (t *Tracer) addProcess(pid int, attached bool, tids []int) error {
	mem, err := openMemory(pid)
	if err != nil {
		return err
	}
	p := &process{pid: pid, attached: attached, mem: mem, bps: breakpoint.New(mem), scratch: &scratch{}, hw: &breakpoint.HWTable{}}
	t.procs[pid] = p
	for _, tid := range tids {
		t.threads[tid] = &thread{tid: tid, proc: p, state: stopped}
	}
	t.publish()
	return nil
}

// shellSpecial are the bytes that a shell (sh, bash, csh and the like)
// may read as syntax or expand within a word: quotes, the escape,
// expansions, globs, redirections, separators and blanks.
const shellSpecial = "\"'\\`$!#&*?()[]{}<>|;^~ \t"

// shellWord returns s written as one word of a command line for $SHELL,
// which the shell turns back into s and expands nothing in; gdb's
// startup-with-shell quotes arguments by the same rules. Each special
// byte gets a backslash, except a newline, which a backslash would turn
// into a line continuation, and which goes between single quotes
// instead; an empty s becomes a pair of single quotes.
func shellWord(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			b.WriteString("'\n'")
		case strings.IndexByte(shellSpecial, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
