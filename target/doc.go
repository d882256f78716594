// Package target debugs Linux x86-64 processes through ptrace: it
// launches or attaches to them, follows their threads, reads and writes
// their memory and registers, inserts software breakpoints, and runs them
// in all-stop mode (when one thread stops for a reason worth reporting,
// every thread is stopped before the event is handed out).
//
// A Tracer is the unit of control. It owns one OS thread that makes every
// ptrace request (see tracer.go for the rule and why), the wait loop that
// classifies each status once (wait.go), and per-thread state: running or
// stopped, an event kept for later, a register cache (registers.go).
// Memory goes through process_vm_readv/writev in whole ranges, with
// /proc/PID/mem for read-only pages (memory.go).
//
// Breakpoints are int3 bytes (breakpoint.Table). A thread that hits one is
// reported with its PC moved back to the breakpoint's address. When such a
// thread is resumed with its PC still there and the breakpoint still
// inserted, it first steps over the breakpoint on its own, with the
// breakpoint lifted and every other thread stopped. That is the only case:
// a thread resumed at a breakpoint it did not stop at, or that the client
// moved onto one, hits it at once, as gdb expects (gdb's jump and set $pc, a breakpoint inserted under a
// stopped thread, a breakpoint at the return of a signal handler). gdb and
// lldb step over breakpoints themselves, removing them first.
//
// The package knows Linux, not the remote protocol: it speaks of threads,
// signals (host numbers), events and addresses.
package target
