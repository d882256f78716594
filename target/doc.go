// Package target debugs Linux x86-64 processes through ptrace: it
// launches or attaches to them, follows their threads, reads and writes
// their memory and registers, inserts software breakpoints, and runs them
// in all-stop mode (when one thread stops for a reason worth reporting,
// every thread is stopped before the event is handed out).
//
// A Tracer is the unit of control. It owns one OS thread that makes every
// ptrace request (see tracer_thread.go for the rule and why), started
// when it first launches or attaches, the wait loop that classifies each
// status once (wait.go), and per-thread state: running or stopped, an
// event kept for later, a register cache (registers.go). Between clients,
// Park keeps watching the stopped processes (park.go).
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
// Signals. A thread that stops with a signal stays in that
// signal-delivery-stop until it runs again, and a resume with the signal
// delivers it with its own siginfo: a signal is never sent twice. A signal
// that passes silently is delivered that way at once; one that comes
// while procgdb steps the thread over a breakpoint waits for the next
// resume with its siginfo kept. A signal for a thread the client steps is
// reported even when it passes (gdb then runs the handler to its return).
// At any other stop (stopped with the others, a new thread, a clone, fork,
// exec or system call stop) the kernel ignores a resume's signal, so a
// signal for such a thread is sent to it with tgkill and delivered from
// the stop that makes. When several threads stop at once, the event
// reported is chosen at random, so that none is starved.
//
// The package knows Linux, not the remote protocol: it speaks of threads,
// signals (host numbers), events and addresses.
package target
