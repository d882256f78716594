package rsp

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Ending the debugging of a process, per the manual's "Packets" section:
// "k" kills, "vKill;pid" kills one process and replies OK, "D" or "D;pid"
// detaches and replies OK.
//
// The manual gives k no reply, and gdb does not read one: it sends k and
// closes the connection. lldb waits for the exit status, so procgdb
// answers k with "X09" (killed by SIGKILL), which gdb never sees.
//
// gdb tries vKill before k whatever was negotiated. Without the
// multiprocess feature it sends a made-up PID, so vKill then means the one
// process being debugged; with multiprocess it falls back to k only if
// vKill is unsupported, so vKill must work.
//
// In extended mode the session outlives its processes: k, vKill and D
// leave it serving with no process, and k gets no reply at all, since gdb
// keeps the connection and would take one as the reply to its next packet.

// killPackets are the dispatch-table rows of k, vKill and D.
func killPackets() []entry {
	return []entry{
		{prefix: "k", handle: (*Session).kill},
		{prefix: "vKill;", handle: (*Session).vKill},
		{prefix: "D", handle: (*Session).detach},
	}
}

// kill answers k: every process is killed and, unless the session is
// extended, the session ends.
func (s *Session) kill(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	if err := s.killAll(); err != nil {
		s.log.Warn("kill", "err", err)
	}
	s.forgetAll()
	if s.ext.on {
		return reply{kind: replyNone}
	}
	killed := appendHexByte(append(s.buf[:0], 'X'), byte(s.dialect.toWire(int(unix.SIGKILL))))
	s.buf = killed
	return endReply(dataReply(killed), OutcomeKilled)
}

// vKill answers vKill;pid. The session ends when no process is left,
// unless it is extended.
func (s *Session) vKill(args []byte) reply {
	pid, err := parseHexInt(args)
	if err != nil {
		return errorReply(fmt.Errorf("process id %q: %w", args, err))
	}
	if !s.multiprocess {
		err = s.killAll()
		s.forgetAll()
	} else if err = s.knownProcess(pid); err == nil {
		err = s.t.Kill(pid)
		s.forgetProcess(pid)
	}
	if err != nil {
		return errorReply(err)
	}
	if len(s.t.Processes()) == 0 && !s.ext.on {
		return endReply(okReply, OutcomeKilled)
	}
	return okReply
}

// killAll kills every process, going on after a failure.
func (s *Session) killAll() error {
	var errs []error
	for _, pid := range s.t.Processes() {
		if err := s.t.Kill(pid); err != nil {
			errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}

// detach answers D and D;pid. The session ends when no process is left,
// unless it is extended.
func (s *Session) detach(args []byte) reply {
	pid, one, err := parsePID(args, ';')
	if err != nil {
		return errorReply(err)
	}
	procs := []int{pid}
	if !one {
		procs = s.t.Processes()
	} else if err := s.knownProcess(pid); err != nil {
		return errorReply(err)
	}
	for _, p := range procs {
		if err := s.t.Detach(p); err != nil {
			return errorReply(fmt.Errorf("detach %d: %w", p, err))
		}
		s.forgetProcess(p)
	}
	if len(s.t.Processes()) == 0 && !s.ext.on {
		return endReply(okReply, OutcomeDetached)
	}
	return okReply
}

// knownProcess checks that pid is being debugged.
func (s *Session) knownProcess(pid int) error {
	if !slices.Contains(s.t.Processes(), pid) {
		return fmt.Errorf("process %d: %w", pid, errUnknownProcess)
	}
	return nil
}

// forgetProcess drops what the session remembers of process pid, which is
// no longer debugged.
func (s *Session) forgetProcess(pid int) {
	s.forgetSelections(pid, inferior.All)
	if s.last.PID == pid {
		s.hasLast = false
	}
	delete(s.ext.attachedPIDs, pid)
	s.forgetNonStop(pid)
	s.dropSnapshots()
	// An interrupt is for the program that ran; it does not outlive
	// it (gdbserver's SIGINT would kill a detached program).
	s.interruptPending = false
}

// forgetAll drops what the session remembers of every process.
func (s *Session) forgetAll() {
	s.general = inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}
	s.cont = s.general
	s.hasLast = false
	clear(s.ext.attachedPIDs)
	clear(s.ns.stops)
	clear(s.ns.quiet)
	s.ns.replay = nil
	s.dropSnapshots()
	s.interruptPending = false
}

// forgetSelections resets the Hg and Hc selections that name thread tid of
// process pid (any of its threads for inferior.All), which is gone.
func (s *Session) forgetSelections(pid, tid int) {
	for _, sel := range []*inferior.ThreadID{&s.general, &s.cont} {
		if sel.PID == pid && (tid == inferior.All || sel.TID == tid) {
			*sel = inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}
		}
	}
}
