// Package rsp speaks gdb's remote serial protocol (RSP): it turns bytes into
// packets, packets into typed requests, and requests into calls on a Target;
// and it offers a small client for programs and tests that talk to a stub,
// on which package client (rsp/client) builds the typed one.
//
// # Terminology
//
// The inferior is the process being debugged. The stub is the program that
// controls the inferior and answers packets (procgdb, gdbserver,
// lldb-server). The client is the debugger that sends them (gdb, lldb, or
// Client). The reference is the gdb manual's appendix "Remote Protocol";
// lldb documents its extensions in lldb/docs/resources/lldbgdbremote.md.
//
// # One thread
//
// A Session does its work on the goroutine that calls Serve, without
// goroutines of its own: it reads a packet, answers it (calling the
// Target), and while the target runs waits in Target.WaitStop, which also
// returns when the client's bytes arrive. procgdb runs Serve on the thread
// that controls the client's processes, so that a resume and the stop that
// ends it cross no goroutine (see package target). A session can move
// between goroutines: Yield makes Serve return between two packets, and
// a later Serve, after SetTarget, serves the same client on (procgdb's
// daemon moves a client that only watched a process to the process's
// tracer this way, when it takes control). Refuse answers a client that
// may not be served at all.
//
// # All-stop
//
// A Session runs in all-stop mode: every thread of every inferior is
// stopped while the session answers packets; a resume (vCont, c, s, ...)
// lets the threads the client named run until one of them stops, when
// every thread is stopped again and the session sends one stop reply.
// While the inferior runs, the client sends nothing but the interrupt byte
// 0x03, which makes the session call Target.Interrupt. For gdb an
// interrupt stays pending until a stop with SIGINT is reported, even one
// that crossed a stop reply: the next resume reports it (session.go).
//
// # Non-stop
//
// After QNonStop:1, with a Target that is a NonStopper, threads stop and
// run on their own (nonstop.go): a resume replies OK and acts only on the
// threads it names, vCont's t action stops threads, stops are sent as
// %Stop notifications while the client sends packets, one at a time, and
// the client drains the rest with vStopped. Between packets the session
// waits for both its client and the target's stops (Target.WaitStop).
//
// # Dialects
//
// gdb and lldb agree on most packets but not all. Where they differ,
// procgdb follows gdb until the client shows it is lldb. What differs is
// one value, the session's dialect (dialect.go), which qSupported and
// lldb's own packets choose and the handlers ask: signal numbers (gdb's
// own, or Linux's for lldb), the form of error replies, the binary memory
// read x (memory.go), thread suffixes on register packets (threadid.go),
// and what stop replies carry (stop.go). lldb's other packets live with
// their families, each in the file of the gdb packets it extends.
//
// # Files
//
// Each file implements one family of packets, named after the manual's
// sections, and declares the family's rows of the dispatch table
// (memoryPackets in memory.go, ...):
//
//	framing.go      "Overview", "Packet Acknowledgment", "Interrupts":
//	                $payload#checksum, + and -, escapes, run-length
//	                encoding, the interrupt byte
//	hex.go          hex data and numbers, and lldb's key:value; lists
//	errors.go       "Standard Replies": E NN and E.text, and lldb's
//	                EXX;HEX-TEXT, in one place
//	dialect.go      where gdb and lldb differ, and lldb's packets that
//	                choose its dialect: QThreadSuffixSupported,
//	                QListThreadsInStopReply, QEnableErrorStrings
//	signals.go      gdb's signal numbers (include/gdb/signals.def)
//	session.go      the dispatch table, made of each file's rows, Serve,
//	                and the all-stop run loop
//	query.go        "General Query Packets": qSupported, QStartNoAckMode,
//	                qC, qfThreadInfo, qsThreadInfo, qThreadExtraInfo, T,
//	                qAttached, qSymbol, QPassSignals, QProgramSignals;
//	                lldb's qHostInfo, qProcessInfo, qGDBServerVersion
//	threadid.go     the thread-id syntax of "Packets", and lldb's thread
//	                suffix
//	memory.go       "Packets": m, M, x (gdb's and lldb's), X; lldb's
//	                qMemoryRegionInfo (Inspector), _M and _m (Allocator)
//	encode.go       hex and escaping in place, checksums: memory replies
//	                are built in the buffer they are sent from
//	encode_amd64.s  the escape scan in SSE2, 64 bytes at a time, summing
//	                as it goes (encode_other.go: the same in Go)
//	multimem.go     lldb's MultiMemRead, one batched read (RangeReader)
//	search.go       "General Query Packets": qCRC, qSearch:memory
//	registers.go    "Packets": g, G, p, P; lldb's qRegisterInfo,
//	                QSaveRegisterState, QRestoreRegisterState
//	resume.go       "Packets": vCont?, vCont, c, C, s, S, H
//	breakpoints.go  "Packets": Z and z, software breakpoints (0) and
//	                hardware breakpoints and watchpoints (1 to 4, HWPointer),
//	                and breakpoint conditions and commands ("Agent
//	                Expressions", CondBreakpointer, CmdBreakpointer);
//	                lldb's qWatchpointSupportInfo
//	xfer.go         qXfer reads, and writes of siginfo (SiginfoWriter);
//	                "Thread List Format", "inferior.Library List Format for SVR4
//	                Targets"
//	stop.go         "Stop Reply Packets": T with its stop reasons, W, X,
//	                w, N, and '?'; lldb's additions to T, qThreadStopInfo,
//	                jThreadsInfo
//	kill.go         k, vKill, D
//	nonstop.go      "Remote Non-Stop", "Notification Packets": QNonStop,
//	                vStopped, vCtrlC, %Stop, and '?' in non-stop mode
//	extended.go     extended mode: !, vRun, vAttach, R, and the launch
//	                settings QEnvironment*, QSetWorkingDir,
//	                QStartupWithShell, QDisableRandomization (lldb's
//	                QSetDisableASLR)
//	events.go       optional events: fork, vfork and exec events,
//	                QThreadEvents, QThreadOptions, QCatchSyscalls,
//	                no-resumed
//	osdata.go       qXfer:osdata:read; "Operating System Information"
//	                (OSDataSource)
//	tls.go          "General Query Packets": qGetTLSAddr (TLSLocator)
//	disable.go      what a session leaves out, as gdbserver's
//	                --disable-packet does (vCont, T replies, qC, ...)
//	selfcheck.go    the checks procgdb --selftest runs: framing, escapes
//	                and the decoders' round trips
//	monitor.go      "General Query Packets": qRcmd, monitor commands
//	                run by Config.Monitor, their output as O packets
//	file.go         "Host I/O Packets": vFile:*, with the constants and
//	                struct stat of "File-I/O Remote Protocol Extension";
//	                lldb's vFile:size, vFile:mode, vFile:exists
//	modules.go      lldb's questions about the object files a process
//	                maps (Inspector): qShlibInfoAddr, qFileLoadAddress,
//	                qModuleInfo, jModulesInfo
//	client.go       Client, the other end of all of the above
//	stopreply.go    stop replies as a client reads them (ParseStopReply)
//	wire.go         the rest of the syntax a client needs, exported for
//	                package client (rsp/client), the typed client
//	deadline.go     time limits on the connection: a write deadline, and
//	                a deadline for the rest of a packet once its '$' came
//	recover.go      a handler's panic becomes an error reply, not a crash
//
// Every packet is decoded by a pure function (parseMemRead, parseVCont,
// parseBreakpoint, parseThreadID, parseXfer, parseQSupported, ...) into a
// typed request, and answered by a handler that returns a reply value; only
// framing.go writes bytes. qSupported is built from the dispatch table, so
// procgdb advertises exactly the packets it handles.
//
// # Hostile input
//
// Nothing a client sends may crash the stub, hang it, or grow its memory
// without bound: each decoder has a fuzz target, FuzzDispatch and FuzzServe
// fuzz whole sessions, and testdata/hostile-packets.txt is a corpus of
// malformed packets replayed against a fake target here and against a
// running procgdb in the end-to-end tests. Packets are at most twice
// PacketSize on the wire, replies carry at most PacketSize bytes of data
// (a binary one is longer on the wire by its escapes), and a client that
// stalls in a packet or stops reading loses its session (deadline.go).
package rsp
