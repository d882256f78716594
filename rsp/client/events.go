package client

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Optional events, per the manual's "General Query Packets": the stub
// stops at system calls (QCatchSyscalls) and at thread creation and exit
// (QThreadEvents) only when asked. Fork, vfork and exec events are asked
// for when connecting (Dialer).

// CatchSyscalls makes the stub stop threads at the entry to and the return
// from system calls nums (Linux x86-64 numbers; all of them when nums is
// empty): StopSyscallEntry and StopSyscallReturn, with the number in
// Stop.Syscall. Another call replaces the list.
func (c *Client) CatchSyscalls(nums ...int) error {
	var b strings.Builder
	b.WriteString("QCatchSyscalls:1")
	for _, n := range nums {
		fmt.Fprintf(&b, ";%x", n)
	}
	if err := c.requestOK(b.String()); err != nil {
		return fmt.Errorf("client: catch system calls: %w", err)
	}
	return nil
}

// StopCatchingSyscalls undoes CatchSyscalls.
func (c *Client) StopCatchingSyscalls() error {
	if err := c.requestOK("QCatchSyscalls:0"); err != nil {
		return fmt.Errorf("client: stop catching system calls: %w", err)
	}
	return nil
}

// ThreadEvents turns the reports of new threads (StopThreadCreated) and of
// threads that exit (StopThreadExited) on or off.
func (c *Client) ThreadEvents(on bool) error {
	req := "QThreadEvents:0"
	if on {
		req = "QThreadEvents:1"
	}
	if err := c.requestOK(req); err != nil {
		return fmt.Errorf("client: thread events: %w", err)
	}
	return nil
}

// defaultPassSignals are the signals gdb passes to the program without
// stopping it unless told otherwise (its "handle" defaults).
var defaultPassSignals = []int{
	int(unix.SIGALRM), int(unix.SIGURG), int(unix.SIGCHLD), int(unix.SIGWINCH),
	int(unix.SIGIO), int(unix.SIGVTALRM), int(unix.SIGPROF),
}

// PassSignals sets the Linux signals the stub delivers to the program
// without stopping it (QPassSignals); any other signal stops the program
// (StopSignal) and is delivered only if the script resumes with it
// (ContinueSignal). A new Client passes what gdb passes by default:
// SIGALRM, SIGURG, SIGCHLD, SIGWINCH, SIGIO, SIGVTALRM and SIGPROF.
func (c *Client) PassSignals(sigs ...int) error {
	var b strings.Builder
	b.WriteString("QPassSignals:")
	for i, sig := range sigs {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(c.signalHex(sig))
	}
	if err := c.requestOK(b.String()); err != nil {
		return fmt.Errorf("client: pass signals: %w", err)
	}
	c.passed = true
	return nil
}

// passDefaultSignals passes gdb's default signals, once the stub takes
// them: lldb-server takes QPassSignals only once it has a process.
func (c *Client) passDefaultSignals() {
	if c.passed || !c.Supports("QPassSignals") {
		return
	}
	c.passed = c.PassSignals(defaultPassSignals...) == nil
}
