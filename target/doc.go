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
// The package knows Linux, not the remote protocol: it speaks of threads,
// signals (host numbers), events and addresses.
package target
