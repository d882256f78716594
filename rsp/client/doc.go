// Package client is a typed client of gdb's remote serial protocol (RSP),
// for programs that drive a stub themselves: tracers, fuzzers, CI checks,
// teaching tools. It works against procgdb and gdbserver, and against
// lldb-server for what the section below lists.
//
//	c, err := client.Start(ctx, "procgdb", "-", "./hello") // or client.Dial(ctx, "tcp", "localhost:1234")
//	if err != nil { ... }
//	defer c.Close()
//	bp, err := c.SetBreakpoint(addr)
//	stop, err := c.Continue(ctx)          // stop.Kind == client.StopBreakpoint
//	pc, err := c.ReadRegister(stop.Thread(), "rip")
//	err = bp.Remove()
//	stop, err = c.Continue(ctx)           // stop.Kind == client.StopExited, stop.ExitCode
//
// A Client sits on rsp.Client, which does the framing, and on package rsp's
// decoders of the protocol's syntax (stop replies, thread ids, signals,
// Host I/O replies), so the two ends of the protocol share one
// implementation. It adds the state a script should not have to keep:
// what the stub offered, the selected thread, the target description, the
// breakpoints it set.
//
// # Connecting
//
// Dial connects over TCP or a unix socket, Start starts a stub that speaks
// RSP on its standard input and output ("procgdb -", "gdbserver -"), and a
// Dialer sets options (console output, fork and exec events). Connecting
// negotiates the features (qSupported, offering multiprocess, swbreak,
// hwbreak, no-resumed, error-message and binary-upload), turns
// acknowledgments off where the stub can (QStartNoAckMode), learns the
// resume actions (vCont?) and how memory moves, and asks for the current
// stop ('?'), which LastStop returns.
//
// # Stops
//
// Continue, Step, RangeStep and ContinueSignal resume and wait; Resume and
// Wait do the two halves, and Interrupt stops a running target. Wait takes
// a context: when it is done, the client interrupts the target and
// returns the stop with the context's error. Every stop is one Stop value:
// its Kind (a signal, a breakpoint, a watchpoint and its address, a step,
// fork, vfork and exec, system call entry and return, an exit with its
// code, a kill by a signal, a thread created or exited, no thread left to
// resume), the thread, and the registers the stub expedited. Signals are
// Linux numbers on both sides; the client translates gdb's.
//
// A thread that stopped at a breakpoint the client set is stepped off it
// with the breakpoint taken out, when it is resumed, as gdb does
// (gdbserver and lldb-server expect it; procgdb does it itself anyway).
//
// # Threads, registers, memory, breakpoints
//
// Threads lists threads with their names (qXfer:threads); Select selects
// the thread whose process memory, breakpoint and file requests apply to,
// which after a stop is the thread that stopped. Registers are read and
// written by name, with the sizes and numbers of the target description
// (Description, from target.xml and what it includes): one with p and P,
// all with g and G. ReadMemory and WriteMemory use the binary x and X where
// the stub has them and m and M otherwise, split requests at the stub's
// packet size, and report how much was read before unreadable memory.
// SetBreakpoint, SetHWBreakpoint and SetWatchpoint return values that
// Remove takes out again.
//
// # Processes, files, commands
//
// Run (program, arguments, environment, working directory), Attach, Kill
// and Detach work in extended mode (a stub started with --multi); with the
// multiprocess feature a stub serves several processes, named by ThreadID's
// PID. FS is the stub's file system through the vFile packets, an fs.FS
// that can also write. Libraries (libraries-svr4), Auxv and ExecFile read
// what the dynamic linker and the kernel say of a process, and Monitor runs
// a command of the stub's own (qRcmd) and returns what it printed.
//
// # Errors
//
// A request the stub refuses returns a *ReplyError with the request and
// the stub's "E NN" or "E.text"; one it does not support, an error wrapping
// ErrUnsupported. An error of the connection itself (or a Wait whose stub
// does not stop after an interrupt) leaves the Client unusable: every later
// call returns that error.
//
// # lldb-server
//
// lldb-server speaks Linux signal numbers (native-signals+), has no
// multiprocess thread ids, no qXfer:threads (threads come without names),
// no range stepping (RangeStep steps one instruction at a time), no
// exec-file, no monitor commands and no '!' (started without a program,
// it serves Run and Attach anyway, and exits with its process), and says
// of a watchpoint only its address (HWKind 0). Connecting, stops,
// threads, registers (its target.xml gives g-packet offsets), memory
// (lldb's x), breakpoints, watchpoints, Run, Attach, Detach, auxv and
// files work, and are tested against lldb-server 14.
package client
