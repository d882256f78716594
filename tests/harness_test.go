//go:build linux

package tests

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds for everything the tests wait for. They are generous because the
// suite runs tests in parallel on small CI machines; a passing run takes a
// fraction of them.
const (
	readyTimeout = 30 * time.Second // a stub printing its Listening line
	gdbTimeout   = 90 * time.Second // one gdb batch run or MI exchange
	exitTimeout  = 30 * time.Second // a process exiting once it was told to
)

// suite is the test environment TestMain prepares.
var suite struct {
	stub     string // "procgdb" or "gdbserver"
	stubPath string // the stub's executable
	progDir  string // the compiled test programs
	srcDir   string // absolute path of testdata
	skip     string // why every test is skipped (tools missing outside CI)
	err      error  // why every test fails
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // listing tests needs no programs and no stub
	}
	dir, err := os.MkdirTemp("", "procgdb-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	setup(dir)
	return m.Run()
}

// setup finds the tools, compiles testdata/*.c and builds the stub. It
// records a failure in suite.err (or, outside CI, a reason to skip in
// suite.skip) rather than exiting, so that every test reports it.
func setup(dir string) {
	suite.stub = os.Getenv("PROCGDB_TEST_STUB")
	if suite.stub == "" {
		suite.stub = "procgdb"
	}
	if suite.stub != "procgdb" && suite.stub != "gdbserver" {
		suite.err = fmt.Errorf("PROCGDB_TEST_STUB=%q: want procgdb or gdbserver", suite.stub)
		return
	}
	tools := []string{"gdb", "gcc"}
	if suite.stub == "gdbserver" {
		tools = append(tools, "gdbserver")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found (bash .ci/run installs it): %v", tool, err)
			if os.Getenv("CI") != "" {
				suite.err = errors.New(msg)
			} else {
				suite.skip = msg
			}
			return
		}
	}
	src, err := filepath.Abs("testdata")
	if err != nil {
		suite.err = err
		return
	}
	suite.srcDir = src
	suite.progDir = filepath.Join(dir, "bin")
	if err := os.Mkdir(suite.progDir, 0o755); err != nil {
		suite.err = err
		return
	}

	var wg sync.WaitGroup
	var compileErr, buildErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		compileErr = compilePrograms(src, suite.progDir)
	}()
	go func() {
		defer wg.Done()
		if suite.stub == "gdbserver" {
			suite.stubPath, buildErr = exec.LookPath("gdbserver")
			return
		}
		if bin := os.Getenv("PROCGDB_TEST_BIN"); bin != "" {
			suite.stubPath, buildErr = filepath.Abs(bin)
			return
		}
		suite.stubPath = filepath.Join(dir, "procgdb")
		buildErr = buildProcgdb(suite.stubPath)
	}()
	wg.Wait()
	suite.err = errors.Join(compileErr, buildErr)
}

// compilePrograms compiles every testdata/*.c into dst, in parallel.
func compilePrograms(src, dst string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.c"))
	if err != nil {
		return err
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = gcc(filepath.Join(dst, strings.TrimSuffix(filepath.Base(f), ".c")), f)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// gcc compiles and links the test program (or library) out from args
// (sources and options), with debug information and no optimisation.
func gcc(out string, args ...string) error {
	cmd := exec.Command("gcc", append([]string{"-g", "-O0", "-pthread", "-Wall", "-o", out}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc %s: %v\n%s", filepath.Base(out), err, b)
	}
	return nil
}

// sharedLib is a shared library a test program comes with: file (such as
// libfoo.so) built from src.
type sharedLib struct{ file, src string }

// buildWithLibs compiles the program testdata/dir/name.c with the shared
// libraries it links with (linked) and those it loads itself with dlopen
// (loaded), all from testdata/dir into one directory of that name, where
// the program finds its libraries (-rpath). It returns the program's path.
func buildWithLibs(dir, name string, linked, loaded []sharedLib) (string, error) {
	out := filepath.Join(suite.progDir, dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	src := filepath.Join(suite.srcDir, dir)
	args := []string{filepath.Join(src, name+".c"), "-L" + out, "-Wl,-rpath," + out}
	for _, l := range slices.Concat(linked, loaded) {
		if err := gcc(filepath.Join(out, l.file), "-shared", "-fPIC", filepath.Join(src, l.src)); err != nil {
			return "", err
		}
	}
	for _, l := range linked {
		args = append(args, "-l"+strings.TrimSuffix(strings.TrimPrefix(l.file, "lib"), ".so"))
	}
	if len(loaded) > 0 {
		args = append(args, "-ldl") // dlopen's library before glibc 2.34
	}
	prog := filepath.Join(out, name)
	return prog, gcc(prog, args...)
}

// buildProcgdb builds ./cmd/procgdb of the module containing this package.
func buildProcgdb(out string) error {
	goTool := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			goTool = p
		}
	}
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/procgdb")
	cmd.Dir = ".." // the module root: this package is <root>/tests
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/procgdb: %v\n%s", err, b)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// prepare is the first call of every test: it marks the test parallel and
// skips or fails it when the environment is not usable.
func prepare(t *testing.T) {
	t.Helper()
	t.Parallel()
	if suite.skip != "" {
		t.Skip(suite.skip)
	}
	if suite.err != nil {
		t.Fatal(suite.err)
	}
}

// onlyProcgdb skips a test of a feature gdbserver does not have.
func onlyProcgdb(t *testing.T, feature string) {
	t.Helper()
	if suite.stub != "procgdb" {
		t.Skipf("%s: %s is not supported by %s", t.Name(), feature, suite.stub)
	}
}

// prog returns the path of the compiled test program name (testdata/name.c).
func prog(name string) string {
	return filepath.Join(suite.progDir, name)
}

// lineOf returns the line of testdata/file that carries the marker
// "LINE:marker" (followed by a space or the end of the comment).
func lineOf(t *testing.T, file, marker string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(suite.srcDir, file))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`LINE:` + regexp.QuoteMeta(marker) + `(\s|\*/)`)
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if re.MatchString(l) {
			if line != 0 {
				t.Fatalf("%s: marker %q on lines %d and %d", file, marker, line, i+1)
			}
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatalf("%s: no marker %q", file, marker)
	}
	return line
}

// lineLog collects what a process writes, line by line, and lets tests wait
// for a line that matches a pattern.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	changed chan struct{} // closed and replaced on every Write
}

func newLineLog() *lineLog {
	return &lineLog{changed: make(chan struct{})}
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := strings.IndexByte(string(l.partial), '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, strings.TrimSuffix(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// String returns everything written so far.
func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.lines, "\n")
	if len(l.lines) > 0 {
		s += "\n"
	}
	return s + string(l.partial)
}

// count returns how many complete lines match re.
func (l *lineLog) count(re *regexp.Regexp) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if re.MatchString(s) {
			n++
		}
	}
	return n
}

// lineCount returns how many complete lines were written so far.
func (l *lineLog) lineCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// errStopped is returned by lineLog.wait when the writer went away first.
var errStopped = errors.New("process exited")

// wait returns the index and submatches of the first complete line at or
// after index from that matches re. It gives up after timeout or, with
// errStopped, when stopped is closed and no such line arrived.
func (l *lineLog) wait(from int, re *regexp.Regexp, timeout time.Duration, stopped <-chan struct{}) (int, []string, error) {
	at, match := -1, []string(nil)
	err := l.waitUntil(timeout, stopped, func(lines []string) bool {
		for i := from; i < len(lines); i++ {
			if m := re.FindStringSubmatch(lines[i]); m != nil {
				at, match = i, m
				return true
			}
		}
		return false
	})
	if err != nil {
		return -1, nil, fmt.Errorf("no line matching %q: %w", re, err)
	}
	return at, match, nil
}

// waitCount waits until at least n complete lines match re. It gives up
// after timeout or, with errStopped, when stopped is closed and there are
// still fewer.
func (l *lineLog) waitCount(re *regexp.Regexp, n int, timeout time.Duration, stopped <-chan struct{}) error {
	got := 0
	err := l.waitUntil(timeout, stopped, func(lines []string) bool {
		got = 0
		for _, s := range lines {
			if re.MatchString(s) {
				got++
			}
		}
		return got >= n
	})
	if err != nil {
		return fmt.Errorf("%d lines matching %q, want %d: %w", got, re, n, err)
	}
	return nil
}

// waitUntil waits until done, called with the complete lines so far
// (under the log's lock) whenever they change, reports true. It gives up
// after timeout or, with errStopped, when stopped is closed and done
// still says no once more after that.
func (l *lineLog) waitUntil(timeout time.Duration, stopped <-chan struct{}, done func([]string) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	final := false
	for {
		l.mu.Lock()
		ok := done(l.lines)
		changed := l.changed
		l.mu.Unlock()
		if ok {
			return nil
		}
		if final {
			return errStopped
		}
		select {
		case <-changed:
		case <-stopped:
			// Look once more: the last lines may have arrived together
			// with the exit.
			final = true
			stopped = nil
		case <-deadline.C:
			return fmt.Errorf("not within %v", timeout)
		}
	}
}

// stubOptions says how to start a stub.
type stubOptions struct {
	comm   string   // COMM; ":0" when empty
	once   bool     // pass --once
	attach int      // attach to this PID instead of launching prog
	prog   string   // program to launch (and the file gdb loads)
	args   []string // its arguments
	flags  []string // more stub options, before COMM (procgdb's own)
	// multi starts an extended-remote server (--multi) with no process:
	// it is ready once it listens.
	multi bool
	env   []string // more environment variables for the stub, KEY=VALUE
	dir   string   // the stub's working directory; the test's when empty
}

// stub is a running procgdb or gdbserver serving one process.
type stub struct {
	t      *testing.T
	opts   stubOptions
	cmd    *exec.Cmd
	stderr *lineLog
	stdout *lineLog
	target string // argument of gdb's "target remote"
	pid    int    // the process it debugs
	done   chan struct{}
	err    error // the stub's exit status, once done is closed
}

// stubFlags returns the options the stub is started with in every test.
func stubFlags(once bool) []string {
	var flags []string
	if once {
		flags = append(flags, "--once")
	}
	if os.Getenv("PROCGDB_TEST_REMOTE_DEBUG") != "" {
		flags = append(flags, "--remote-debug")
	}
	return flags
}

var (
	listeningRE = regexp.MustCompile(`^Listening on port (\d+)$`)
	createdRE   = regexp.MustCompile(`^Process (.+) created; pid = (\d+)$`)
	attachedRE  = regexp.MustCompile(`^Attached; pid = (\d+)$`)
	anyListenRE = regexp.MustCompile(`^Listening on `)
)

// startStub starts the stub, waits until it listens and registers its
// clean-up: the debugged process (if the stub launched it) and the stub's
// process group are killed when the test ends.
func startStub(t *testing.T, o stubOptions) *stub {
	t.Helper()
	if o.comm == "" {
		o.comm = ":0"
	}
	args := append(stubFlags(o.once), o.flags...)
	if o.multi {
		args = append(args, "--multi")
	}
	args = append(args, o.comm)
	if o.attach != 0 {
		args = append(args, "--attach", strconv.Itoa(o.attach))
	} else if !o.multi || o.prog != "" {
		args = append(append(args, o.prog), o.args...)
	}
	s := &stub{
		t:      t,
		opts:   o,
		stderr: newLineLog(),
		stdout: newLineLog(),
		done:   make(chan struct{}),
	}
	s.cmd = exec.Command(suite.stubPath, args...)
	if len(o.env) > 0 {
		s.cmd.Env = append(os.Environ(), o.env...)
	}
	s.cmd.Dir = o.dir
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The debugged process inherits the output pipes; do not wait for it
	// to close them once the stub itself has exited.
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", suite.stub, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.stop)

	if strings.HasPrefix(o.comm, "unix:") {
		s.target = strings.TrimPrefix(o.comm, "unix:")
		s.waitUnixReady()
	} else {
		_, m, err := s.stderr.wait(0, listeningRE, readyTimeout, s.done)
		if err != nil {
			t.Fatalf("%s %s: waiting for its Listening line: %v", suite.stub, strings.Join(args, " "), err)
		}
		s.target = "127.0.0.1:" + m[1]
	}
	if o.multi {
		return s // no process until a client asks for one
	}
	re := createdRE
	if o.attach != 0 {
		re = attachedRE
	}
	_, m, err := s.stderr.wait(0, re, readyTimeout, s.done)
	if err != nil {
		t.Fatalf("%s: waiting for %q: %v", suite.stub, re, err)
	}
	s.pid, _ = strconv.Atoi(m[len(m)-1])
	return s
}

// waitUnixReady waits until the stub prints its Listening line or its socket
// exists, whichever comes first (the line is not part of gdbserver's
// conventions for unix sockets).
func (s *stub) waitUnixReady() {
	s.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		if s.stderr.count(anyListenRE) > 0 {
			return
		}
		if fi, err := os.Stat(s.target); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: no socket %s within %v", suite.stub, s.target, readyTimeout)
		}
		select {
		case <-s.done:
			s.t.Fatalf("%s exited before listening on %s: %v", suite.stub, s.target, s.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop kills what the stub debugs (unless the test owns it) and the stub.
func (s *stub) stop() {
	if s.opts.attach == 0 && s.pid > 0 {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(exitTimeout):
		s.t.Errorf("%s did not exit after SIGKILL", suite.stub)
	}
	if s.t.Failed() {
		s.t.Logf("%s stderr:\n%s", suite.stub, s.stderr)
		if out := s.stdout.String(); out != "" {
			s.t.Logf("%s stdout:\n%s", suite.stub, out)
		}
	}
}

// waitExit waits for the stub to exit by itself and returns its status.
func (s *stub) waitExit(timeout time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(timeout):
		s.t.Fatalf("%s did not exit within %v", suite.stub, timeout)
		return nil
	}
}

// waitStderr waits for a line of the stub's stderr that matches re.
func (s *stub) waitStderr(re string) []string {
	s.t.Helper()
	_, m, err := s.stderr.wait(0, regexp.MustCompile(re), readyTimeout, s.done)
	if err != nil {
		s.t.Fatalf("%s stderr: %v", suite.stub, err)
	}
	return m
}

// gdb runs a gdb batch session against the stub: it loads the stub's
// program, connects with "target remote" and runs cmds.
func (s *stub) gdb(cmds ...string) *transcript {
	s.t.Helper()
	return runGDB(s.t, s.opts.prog, "target remote "+s.target, cmds...)
}

// transcript is the output of a gdb (or lldb) batch session, cut per
// command.
type transcript struct {
	t     *testing.T
	all   string
	cmds  []string // cmds[0] is the command that connects
	parts []string // parts[i] is what cmds[i] printed
}

const markerFmt = "@@procgdb-test cmd %d@@"

var markerRE = regexp.MustCompile(`(?m)^@@procgdb-test cmd (\d+)@@\n`)

// debuggerEnv is the environment of the debuggers the tests run: their
// output in English, and no debuginfod downloads.
func debuggerEnv() []string {
	return append(os.Environ(), "LC_ALL=C", "DEBUGINFOD_URLS=")
}

// gdbSettings are the settings every gdb of the tests starts with.
var gdbSettings = []string{
	"set debuginfod enabled off",
	"set pagination off",
	"set confirm off",
	// A gdb that fails an assertion leaves no core file in the tree.
	"maint set internal-error corefile no",
}

// gdbBatchArgs returns the arguments of "gdb -batch" on program file (none
// when empty) with gdbSettings, "set width 0" and more settings iex, that
// runs cmds, each preceded by the transcript marker of its index.
func gdbBatchArgs(file string, iex []string, cmds []string) []string {
	args := []string{"-batch", "-nx", "-q"}
	for _, set := range slices.Concat(gdbSettings, []string{"set width 0"}, iex) {
		args = append(args, "-iex", set)
	}
	if file != "" {
		args = append(args, file)
	}
	for i, c := range cmds {
		args = append(args, "-ex", "echo \\n"+fmt.Sprintf(markerFmt, i)+"\\n", "-ex", c)
	}
	return args
}

// runGDB runs "gdb -batch" on program file with the commands connect (such
// as "target remote ADDR") and cmds, with a bounded time, and returns what
// each command printed. gdb's stdout and stderr go to one file so that
// their order is kept.
func runGDB(t *testing.T, file, connect string, cmds ...string) *transcript {
	t.Helper()
	return runGDBAs(t, nil, file, connect, cmds...)
}

// runGDBAs is runGDB with gdb run as the user cred says (nil: the test's
// own).
func runGDBAs(t *testing.T, cred *syscall.Credential, file, connect string, cmds ...string) *transcript {
	t.Helper()
	return runGDBProc(t, &syscall.SysProcAttr{Credential: cred}, file, connect, cmds...)
}

// runGDBProc is runGDB with gdb started as attr says (its Credential and
// AmbientCaps).
func runGDBProc(t *testing.T, attr *syscall.SysProcAttr, file, connect string, cmds ...string) *transcript {
	t.Helper()
	cred := attr.Credential
	all := append([]string{connect}, cmds...)
	args := gdbBatchArgs(file, nil, all)
	out, err := os.CreateTemp(t.TempDir(), "gdb-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	ctx, cancel := context.WithTimeout(context.Background(), gdbTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gdb", args...)
	cmd.Env = debuggerEnv()
	cmd.Stdout = out
	cmd.Stderr = out
	// gdb and what it starts (a stub over stdio) form one process group,
	// killed as a whole on time-out.
	attr.Setpgid = true
	cmd.SysProcAttr = attr
	if cred != nil {
		// Its own home, which it may write in: gdb keeps its history
		// and caches there.
		cmd.Dir = homeOf(t, cred)
		cmd.Env = append(cmd.Env, "HOME="+cmd.Dir)
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	tr := &transcript{t: t, all: string(b), cmds: all}
	tr.split()
	if ctx.Err() != nil {
		t.Fatalf("gdb %q did not finish within %v; output:\n%s", all, gdbTimeout, tr.all)
	}
	// gdb -batch exits non-zero when the last command failed; tests judge
	// the output instead, which says more.
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		t.Fatalf("gdb: %v", runErr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gdb session %q:\n%s", connect, tr.all)
		}
	})
	return tr
}

func (tr *transcript) split() {
	tr.parts = make([]string, len(tr.cmds))
	locs := markerRE.FindAllStringSubmatchIndex(tr.all, -1)
	for k, loc := range locs {
		i, _ := strconv.Atoi(tr.all[loc[2]:loc[3]])
		end := len(tr.all)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		if i < len(tr.parts) {
			tr.parts[i] = strings.TrimSpace(tr.all[loc[1]:end])
		}
	}
}

// out returns what the n-th (1-based) command equal to cmd printed, or, for
// n == 0, the first one.
func (tr *transcript) out(cmd string, n ...int) string {
	tr.t.Helper()
	want := 1
	if len(n) > 0 {
		want = n[0]
	}
	seen := 0
	for i, c := range tr.cmds {
		if c == cmd {
			seen++
			if seen == want {
				return tr.parts[i]
			}
		}
	}
	tr.t.Fatalf("transcript has no command %q number %d", cmd, want)
	return ""
}

// match fails the test unless what cmd printed matches re, and returns the
// submatches. n optionally selects the n-th command equal to cmd.
func (tr *transcript) match(cmd, re string, n ...int) []string {
	tr.t.Helper()
	out := tr.out(cmd, n...)
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		tr.t.Errorf("%q printed:\n%s\nwant a match for %q", cmd, indent(out), re)
	}
	return m
}

// noMatch fails the test if what cmd printed matches re.
func (tr *transcript) noMatch(cmd, re string, n ...int) {
	tr.t.Helper()
	out := tr.out(cmd, n...)
	if m := regexp.MustCompile(re).FindString(out); m != "" {
		tr.t.Errorf("%q printed:\n%s\nwhich unexpectedly matches %q (%q)", cmd, indent(out), re, m)
	}
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// gdbProc is a gdb running in the background.
type gdbProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // nil unless asked for
	out   *lineLog       // its stdout and stderr
	done  chan struct{}  // closed once it has exited
}

// startGDBProc starts gdb with args in a process group of its own, with a
// pipe as its stdin if withStdin. When the test ends, gdb and what it
// started are killed, and, if the test failed, what gdb printed is logged
// as name.
func startGDBProc(t *testing.T, name string, args []string, withStdin bool) *gdbProc {
	t.Helper()
	g := &gdbProc{out: newLineLog(), done: make(chan struct{})}
	g.cmd = exec.Command("gdb", args...)
	g.cmd.Env = debuggerEnv()
	g.cmd.Stdout = g.out
	g.cmd.Stderr = g.out
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g.cmd.WaitDelay = time.Second
	if withStdin {
		var err error
		if g.stdin, err = g.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = g.cmd.Wait()
		close(g.done)
	}()
	t.Cleanup(func() {
		g.kill()
		if t.Failed() {
			t.Logf("%s:\n%s", name, g.out)
		}
	})
	return g
}

// kill kills gdb's process group with SIGKILL and waits for gdb.
func (g *gdbProc) kill() {
	_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
	<-g.done
}

// mi drives gdb through its machine interface, for sessions that need to
// act while the program runs.
type mi struct {
	*gdbProc
	t      *testing.T
	token  int
	cursor int // async records are searched from this line on
}

// startMI starts "gdb -i=mi" on file.
func startMI(t *testing.T, file string) *mi {
	t.Helper()
	args := []string{"-i=mi", "-nx", "-q"}
	for _, set := range gdbSettings {
		args = append(args, "-iex", set)
	}
	args = append(args, file)
	return &mi{gdbProc: startGDBProc(t, "gdb/MI session", args, true), t: t}
}

// run sends an MI command and waits for its result record, which must be of
// class want ("done", "running", "connected"); it returns the record.
func (g *mi) run(command, want string) string {
	g.t.Helper()
	g.token++
	tok := g.token
	if _, err := fmt.Fprintf(g.stdin, "%d%s\n", tok, command); err != nil {
		g.t.Fatalf("gdb/MI: send %q: %v", command, err)
	}
	re := regexp.MustCompile(fmt.Sprintf(`^%d\^(\w+)(,.*)?$`, tok))
	_, m, err := g.out.wait(0, re, gdbTimeout, g.done)
	if err != nil {
		g.t.Fatalf("gdb/MI %q: %v", command, err)
	}
	if m[1] != want {
		g.t.Fatalf("gdb/MI %q: got ^%s%s, want ^%s", command, m[1], m[2], want)
	}
	return m[0]
}

// expect waits for the next output line, after the last one expect
// returned, that matches re, and returns it.
func (g *mi) expect(re string) string {
	g.t.Helper()
	i, m, err := g.out.wait(g.cursor, regexp.MustCompile(re), gdbTimeout, g.done)
	if err != nil {
		g.t.Fatalf("gdb/MI: %v", err)
	}
	g.cursor = i + 1
	return m[0]
}

// startProcess starts a test program directly (not under a stub), with its
// stdin a pipe, its output collected, and a clean-up that kills it.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineLog
	done  chan struct{}
	err   error
}

func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	return startCmd(t, name, exec.Command(prog(name), args...))
}

// startCmd starts cmd as startProcess starts a test program; name names
// it in the test's log.
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, out: newLineLog(), done: make(chan struct{})}
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// readyRE is the line a test program that waits to be attached to prints
// once it is ready.
var readyRE = regexp.MustCompile(`^ready pid=(\d+)$`)

// startReady starts a test program that prints "ready pid=N" when it is
// ready to be attached to, and returns it once it has said so, with its
// own PID.
func startReady(t *testing.T, name string, args ...string) *process {
	t.Helper()
	return waitReady(t, name, startProcess(t, name, args...))
}

// waitReady waits until p says it is ready, with its own PID.
func waitReady(t *testing.T, name string, p *process) *process {
	t.Helper()
	_, m, err := p.out.wait(0, readyRE, readyTimeout, p.done)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if m[1] != strconv.Itoa(p.cmd.Process.Pid) {
		t.Fatalf("%s says pid %s, started as %d", name, m[1], p.cmd.Process.Pid)
	}
	return p
}

// runsOnToReport checks a process the debugger has let go: it is still
// running, it ends normally once its stdin is closed, and it prints a line
// matching report, whose submatches are returned.
func (p *process) runsOnToReport(t *testing.T, name, report string) []string {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s exited after it was let go: %v", name, p.err)
	default:
	}
	if err := p.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("%s did not exit within %v of its stdin closing", name, exitTimeout)
	}
	if p.err != nil {
		t.Fatalf("%s after it was let go: %v (want a normal exit)", name, p.err)
	}
	_, m, err := p.out.wait(0, regexp.MustCompile(report), readyTimeout, p.done)
	if err != nil {
		t.Fatalf("%s's report: %v", name, err)
	}
	return m
}

// readFile returns the contents of a file a test program wrote.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scanLines splits s into lines (for counting lines of gdb output).
func scanLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
