//go:build linux

// Package procdir keeps a directory of unix sockets in step with the
// machine's processes, one socket DIR/PID per process, and decides who
// may debug a process through its socket: the foundations of procgdb's
// /proc/PID/gdb in user space (procgdb --proc-dir DIR). It knows nothing
// of ptrace or the remote protocol.
//
// # Who may connect to what
//
// The rule is the kernel's: a client may debug a process through DIR/PID
// exactly when it could ptrace(PTRACE_ATTACH) that process itself. Two
// gates enforce it.
//
//   - The kernel's, at connect: DIR/PID has mode 0600 and the owner the
//     kernel gives the process's own files in /proc (the effective uid,
//     or root once the process is not dumpable, as set-user-ID programs
//     and processes that changed credentials are). Connecting needs write
//     permission on the socket, so only that user and root get through,
//     as with /proc/PID/mem. Not the real uid: a set-user-ID program
//     keeps its caller's real uid, and its caller may not debug it. The
//     rule lets in only a user equal to all three of the real, effective
//     and saved uids, and a process whose three differ is not dumpable
//     (the kernel makes it so when its ids change), so its socket is
//     root's.
//   - procgdb's, after accept: Conn.Check reads the peer (SO_PEERCRED,
//     then /proc/PEER/status) and the target from /proc and applies Check,
//     a pure function of those readings and Yama's ptrace_scope that
//     follows the kernel's own checks in order: no kernel threads, not
//     itself; the peer's real uid and gid equal to the target's real,
//     effective and saved ones; the target dumpable; its permitted
//     capabilities among the peer's, in the same user namespace; Yama's
//     scope (1: the target descends from the peer; 2: CAP_SYS_PTRACE only;
//     3: nobody). CAP_SYS_PTRACE in the target's user namespace (as the
//     kernel computes it) passes every rule but the first two and scope 3.
//     A refused client should get the Refusal's text and nothing else.
//
// The file owner is only a first gate, and may lag (a process that makes
// itself non-dumpable with prctl raises no event): the check at accept
// decides. What the check cannot see it refuses: a PR_SET_PTRACER
// exception under Yama's scope 1, and the dumpable flag of a process
// running as its namespace's root (DumpableUnknown) for a peer without
// CAP_SYS_PTRACE. Other security modules (SELinux, AppArmor) are not
// consulted.
//
// # Races
//
// Check reads both processes after the connection, not at it. The PID of
// either may go to another process meanwhile: pidfds taken at accept
// (SO_PEERPIDFD for the peer where the kernel has it) tell, and such a
// connection is refused. The peer may run a set-user-ID program
// meanwhile: its effective ids then differ from SO_PEERCRED's, and it is
// refused. What remains: a peer that passes its connection to a child and
// then runs a program given CAP_SYS_PTRACE by file capabilities (setcap)
// would be credited with that capability. Only an administrator's grant
// makes that possible, and a file capability on a debugger grants the
// same to whoever runs it.
//
// The target, too, may change after the check: it may run a set-user-ID
// program before procgdb attaches, or while attached. procgdb's attach
// succeeds where the peer's would not (procgdb has CAP_SYS_PTRACE), and
// the kernel then honours the program's set-user-ID bits because the
// tracer is privileged. So the daemon checks again once attached, and at
// each exec event before reporting it, and drops the client (detaching)
// when the check fails.
//
// Whatever else the daemon does for a client it does with the client's
// rights, not its own: a program it starts (vRun) runs with the client's
// ids and no_new_privs (under a privileged tracer the kernel would honour
// set-user-ID bits), and files it opens (vFile) are opened with the
// client's file system ids.
//
// # Following processes
//
// Watch finds processes through the kernel's process events (the proc
// connector, with CAP_NET_ADMIN in the first PID and user namespaces) or
// by scanning /proc, and learns of each one's end from a pidfd. Events
// are read in batches, once per Options.Interval, so that a process
// living less than that (most of a shell script's) costs a fork event and
// a failed pidfd_open, and no socket; a scan reads /proc and the owner of
// each /proc/PID/stat. Threads are not processes: /proc lists only
// thread-group leaders, a fork event for a thread is skipped, and
// pidfd_open refuses a thread. An exec or a change of uids re-reads the
// owner. Everything runs on one goroutine around one epoll descriptor in
// Go's poller: no thread per socket, and none blocked while idle.
//
// Sockets are made in DIR/.new (mode 0700) and renamed into DIR whole, so
// no moment exists where another user could connect to one with the wrong
// owner or mode; DIR is used only through a descriptor opened without
// following links, and must be owned by procgdb's user and writable by
// nobody else, nor may a directory above it be (unless sticky). DIR is
// best on a memory file system (/run): a socket costs much more on a disk
// file system.
//
// # systemd
//
// The sockets are procgdb's own: they come and go with processes, so
// systemd cannot make them in advance, and procgdb --proc-dir runs as a
// service (contrib/systemd/procgdb-procdir.service). What systemd can hold
// is one control socket, DIR/control, for clients that name a process
// inside the protocol (gdb's target extended-remote, then attach PID,
// checked by the same Check); contrib/systemd/procgdb-procdir.socket
// passes it under the name "control" (ListenFDs reads LISTEN_FDS) and
// starts the service on its first connection. Watch leaves names that are
// not PIDs alone.
package procdir
