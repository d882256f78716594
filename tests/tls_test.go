//go:build linux

package tests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tlsProgram builds testdata/tls: tls.c linked with libtls_lib.so, and
// libtls_dl.so, which it loads with dlopen.
var tlsProgram = sync.OnceValues(func() (string, error) {
	return buildWithLibs("tls", "tls",
		[]sharedLib{{"libtls_lib.so", "tls_lib.c"}},
		[]sharedLib{{"libtls_dl.so", "tls_dl.c"}})
})

// TestThreadLocalVariables prints thread-local variables with gdb
// (qGetTLSAddr): the executable's, a linked library's, a dlopened
// library's and libc's errno, in the main thread and in a second one,
// whose block of the dlopened library is not allocated until it uses it.
// Where glibc has no address (before the dynamic linker has run, or for a
// block not allocated yet), gdb reports that it cannot find the variable,
// as with gdbserver. errno is cast because gdb knows its type only where
// libc's debug information is installed.
func TestThreadLocalVariables(t *testing.T) {
	prepare(t)
	p, err := tlsProgram()
	if err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: p, args: []string{filepath.Join(filepath.Dir(p), "libtls_dl.so")}})
	tr := s.gdb(
		"print tvar",
		"break at_main", "break at_untouched", "break at_second",
		"continue",
		"print tvar", "print libtvar", "print dltvar", "print (int) errno",
		"continue",
		"print tvar", "print libtvar", "print dltvar",
		"continue",
		"print tvar", "print libtvar", "print dltvar", "print (int) errno",
		"thread 1",
		"print tvar", "print libtvar", "print dltvar",
		"kill",
	)
	// At the first instruction the dynamic linker has not set up TLS.
	tr.match("print tvar", `Cannot find thread-local storage .*executable file .*tls:\nRemote target failed to process qGetTLSAddr request`, 1)

	// The main thread, at at_main.
	tr.match("continue", `Breakpoint 1, at_main`, 1)
	tr.match("print tvar", `^\$\d+ = 1$`, 2)
	tr.match("print libtvar", `^\$\d+ = 2$`, 1)
	tr.match("print dltvar", `^\$\d+ = 3$`, 1)
	tr.match("print (int) errno", `^\$\d+ = 4$`, 1)

	// The second thread before it uses anything: the initial values,
	// and no block of the dlopened library yet.
	tr.match("continue", `Thread 2 "tls" hit Breakpoint 2, at_untouched`, 2)
	tr.match("print tvar", `^\$\d+ = 11$`, 3)
	tr.match("print libtvar", `^\$\d+ = 12$`, 2)
	tr.match("print dltvar", `Cannot find thread-local storage for Thread [^\n]*libtls_dl\.so:\nRemote target failed to process qGetTLSAddr request`, 2)

	// The second thread with values of its own.
	tr.match("continue", `Thread 2 "tls" hit Breakpoint 3, at_second`, 3)
	tr.match("print tvar", `^\$\d+ = 21$`, 4)
	tr.match("print libtvar", `^\$\d+ = 22$`, 3)
	tr.match("print dltvar", `^\$\d+ = 23$`, 3)
	tr.match("print (int) errno", `^\$\d+ = 24$`, 2)

	// The main thread's values, asked from the second thread's stop.
	tr.match("thread 1", `Switching to thread 1`)
	tr.match("print tvar", `^\$\d+ = 1$`, 5)
	tr.match("print libtvar", `^\$\d+ = 2$`, 4)
	tr.match("print dltvar", `^\$\d+ = 3$`, 4)
}

// TestThreadLocalStatic asks for a thread-local variable of a statically
// linked program: neither procgdb nor gdbserver finds it (gdb names no
// module), and the session goes on.
func TestThreadLocalStatic(t *testing.T) {
	prepare(t)
	out, err := exec.Command("gcc", "-print-file-name=libc.a").Output()
	if err != nil || !filepath.IsAbs(strings.TrimSpace(string(out))) {
		t.Skipf("no static C library to link with (gcc -print-file-name=libc.a: %q, %v)", out, err)
	}
	p := filepath.Join(t.TempDir(), "tls_static")
	if err := gcc(p, "-static", filepath.Join(suite.srcDir, "tls", "tls_static.c")); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, stubOptions{prog: p})
	tr := s.gdb("break at_main", "continue", "print tvar", "print 6*7", "continue")
	tr.match("print tvar", `Cannot find thread-local storage for Thread [^\n]*tls_static:\nRemote target failed to process qGetTLSAddr request`)
	tr.match("print 6*7", `^\$\d+ = 42$`)
	tr.match("continue", `exited normally`, 2)
}
