// Package target debugs Linux x86-64 processes through ptrace: it
// launches or attaches to them, follows their threads, reads and writes
// their memory and registers, inserts software breakpoints, and runs them
// in all-stop mode (when one thread stops for a reason worth reporting,
// every thread is stopped before the event is handed out) or, switched
// with SetNonStop, in non-stop mode (each thread stops and runs on its
// own; nonstop.go).
//
// A Tracer is the unit of control. Its loop, the goroutine that first
// launches or attaches with it, makes every ptrace request, waits for its
// tracees and serves its client's session, through the Tracer's Ctl;
// other goroutines reach it with Tracer.Do (loop.go has the rule and why,
// waits.go the one place where the loop blocks). It keeps per-thread
// state: running or stopped, an event kept for later, a register cache
// (registers.go). Between clients, Park keeps watching the stopped
// processes (park.go). Memory goes through process_vm_readv/writev in
// whole ranges, with /proc/PID/mem for read-only pages (memory.go).
//
// Files, by what they hold:
//
//	tracer.go       Tracer and Ctl, processes and threads, lookups
//	loop.go         the loop: its thread, its work queue, its system calls
//	waits.go        Wait, WaitStop, WaitInput, and block, where it waits
//	launch.go       starting a program; attach.go, attaching to one
//	wait.go         one wait status classified (classify)
//	events.go       what each stop means (handle, trap, forks, execs)
//	stop.go         all-stop: stopping the other threads, a fair pick
//	nonstop.go      non-stop: one thread's stop, Stop, pausing the others
//	resume.go       Resume, stepping over breakpoints, range steps
//	kill.go         Kill and Detach, and dropping a process
//	signals.go      siginfo, and signals for threads that cannot take one
//	options.go      passed signals, optional events, thread options
//	breakpoints.go  software breakpoints; cond.go, their conditions
//	debugreg.go     hardware breakpoints and watchpoints; softwatch.go,
//	                write watchpoints emulated without debug registers
//	registers.go    the register cache; memory.go, memory
//	park.go         watching processes no client drives
//	proc.go, maps.go, svr4.go, tls.go, core.go, osdata.go, report.go
//	                what /proc and the dynamic linker say of a process
//	probe.go        whether this machine's debug registers trap
//	syscall_inject.go  system calls made in a stopped thread (lldb's _M)
//	outofline.go    stepping over a breakpoint out of line, scratch pages
//	rangestep.go    range steps at full speed, internal breakpoints

// Breakpoints are int3 bytes (breakpoint.Table). A thread that hits one is
// reported with its PC moved back to the breakpoint's address. When such a
// thread is resumed with its PC still there and the breakpoint still
// inserted, it first steps over the breakpoint on its own: out of line, a
// copy of the instruction run in a scratch page while the int3 stays in
// place for the other threads (outofline.go), or, for what cannot run
// there, with the breakpoint lifted and every other thread stopped. A
// hit whose conditions are false, or whose commands ran, is passed the
// same way, other threads running on. That is the only case:
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
