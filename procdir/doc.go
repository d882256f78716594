//go:build linux

// Package procdir keeps a directory of unix sockets in step with the
// machine's processes, one socket DIR/PID per process, and decides who
// may debug a process through its socket: the foundations of procgdb's
// /proc/PID/gdb in user space (`procgdb --proc-dir DIR`).
//
// Check decides, as a pure function, whether a peer may debug a target
// the way the kernel would decide whether the peer may ptrace it; the
// Read functions fill its arguments from /proc.
package procdir
