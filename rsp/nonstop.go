package rsp

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Non-stop mode, per the manual's "Remote Non-Stop" and "Notification
// Packets": after QNonStop:1 each thread stops and runs on its own.
// Resumes (vCont) reply OK at once and act only on the threads they name;
// vCont's t action stops threads. A thread's stop is sent as a
// notification, "%Stop:" and the stop reply, while the client may be
// sending packets; one notification is out at a time, and the client
// drains the stops that came meanwhile with vStopped, which replies with
// the next stop, or OK when there is none left. Until then the target
// keeps them: a thread whose stop the client has not heard of is not
// resumed. '?' reports every stopped thread the same way: its reply is
// the first stop, and vStopped gives the others.

// nonStopPackets are the dispatch-table rows of non-stop mode.
func nonStopPackets() []entry {
	return []entry{
		{prefix: "QNonStop:", feature: "QNonStop+", enabled: isNonStopper, handle: (*Session).setNonStop},
		{prefix: "vStopped", enabled: isNonStopper, handle: (*Session).vStopped},
		{prefix: "vCtrlC", handle: (*Session).vCtrlC},
	}
}

// NonStopper is implemented by targets that run in non-stop mode; the
// session offers QNonStop only then. After SetNonStop(true) the target
// follows the Target interface with these differences: Resume resumes the
// stopped threads the actions name and returns while they run, leaving
// every other thread as it is; WaitStop returns each thread's event as it
// comes, with the other threads still running; Interrupt stops one
// running thread, reported with SIGINT; memory and breakpoints may be
// read and changed while threads run, and the registers of stopped
// threads. SetNonStop(false) stops every thread.
type NonStopper interface {
	SetNonStop(on bool) error
	// Stop asks the running threads that t matches (PID and TID may be
	// inferior.All) to stop; each one's stop is reported as
	// inferior.EventSignal with Signal 0, unless another event of it
	// comes first.
	Stop(t inferior.ThreadID) error
	// Stopped reports whether thread t is stopped.
	Stopped(t inferior.ThreadID) bool
	// NextStop returns the next event that is ready, without waiting.
	NextStop() (inferior.Event, bool)
}

func isNonStopper(s *Session) bool {
	_, ok := s.t.(NonStopper)
	return ok
}

// nonStopState is the session's part of non-stop mode.
type nonStopState struct {
	on bool
	// out: a stop notification (or a reply of '?' with a stop) is out,
	// and the client has not yet drained the stops with vStopped.
	out bool
	// replay holds stops the session reports before the target's next
	// ones: the stopped threads '?' reports, the threads that vCont;t
	// stops after an attach.
	replay []inferior.Event
	// stops is the last stop reported of each thread, which '?'
	// reports again while the thread stays stopped.
	stops map[inferior.ThreadID]inferior.Event
	// quiet are the threads of processes attached to in non-stop mode:
	// stopped, while the client believes them running until it stops
	// them (vCont;t), as gdbserver's attach leaves them.
	quiet map[inferior.ThreadID]bool
}

// setNonStop answers QNonStop:1 and QNonStop:0.
func (s *Session) setNonStop(args []byte) reply {
	var on bool
	switch string(args) {
	case "1":
		on = true
	case "0":
	default:
		return errorReply(fmt.Errorf("%q: want 0 or 1: %w", args, errMalformed))
	}
	if err := s.t.(NonStopper).SetNonStop(on); err != nil {
		return errorReply(err)
	}
	s.ns = nonStopState{on: on}
	if on {
		s.ns.stops = make(map[inferior.ThreadID]inferior.Event)
		s.ns.quiet = make(map[inferior.ThreadID]bool)
	}
	return okReply
}

// leaveNonStop puts the target back in all-stop mode when the session
// ends in non-stop mode: the threads stop, and the next client finds them
// as an all-stop client expects.
func (s *Session) leaveNonStop() {
	if !s.ns.on {
		return
	}
	if err := s.t.(NonStopper).SetNonStop(false); err != nil {
		s.log.Warn("leaving non-stop mode", "err", err)
	}
	s.ns = nonStopState{}
}

// awaitClient waits, in non-stop mode, for the client's next bytes and
// meanwhile notifies the client of stops, one at a time: while one is out
// the others wait until the client drains them with vStopped.
func (s *Session) awaitClient(ctx context.Context) error {
	for !s.conn.buffered() && !s.ns.out {
		if len(s.ns.replay) > 0 {
			ev := s.ns.replay[0]
			s.ns.replay = s.ns.replay[1:]
			if err := s.notify(ev); err != nil {
				return err
			}
			continue
		}
		if len(s.t.Processes()) == 0 {
			// The last process may be gone with its exit still to tell
			// (the target took it while the client drained the stops
			// before): that first, else the client's bytes are all.
			ev, ok := s.t.(NonStopper).NextStop()
			if !ok {
				return nil
			}
			if err := s.notify(ev); err != nil {
				return err
			}
			continue
		}
		ev, stopped, err := s.t.WaitStop(ctx)
		if err != nil {
			return err
		}
		if !stopped {
			return nil // the client's bytes
		}
		if err := s.notify(ev); err != nil {
			return err
		}
	}
	return nil
}

// notify sends ev as a stop notification.
func (s *Session) notify(ev inferior.Event) error {
	s.noteStop(ev)
	p := append(s.buf[:0], "Stop:"...)
	p = s.appendStop(p, ev)
	s.buf = p
	s.ns.out = true
	return s.conn.writeNotification(p, s.dialect.rle)
}

// noteStop records a stop reported in non-stop mode.
func (s *Session) noteStop(ev inferior.Event) {
	s.recordStop(ev)
	id := inferior.ThreadID{PID: ev.PID, TID: ev.TID}
	switch {
	case threadStop(ev.Kind):
		s.ns.stops[id] = ev
	case ev.Kind == inferior.EventThreadExited:
		delete(s.ns.stops, id)
	}
}

// nextStop returns the next stop to report, the session's own first.
func (s *Session) nextStop() (inferior.Event, bool) {
	if len(s.ns.replay) > 0 {
		ev := s.ns.replay[0]
		s.ns.replay = s.ns.replay[1:]
		return ev, true
	}
	return s.t.(NonStopper).NextStop()
}

// vStopped answers vStopped with the next stop, or OK once the client has
// them all. In non-extended mode the session ends there if the client has
// been told that the last process ended.
func (s *Session) vStopped(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	if !s.ns.on {
		return errorReply(fmt.Errorf("vStopped: %w", errAllStopMode))
	}
	ev, ok := s.nextStop()
	if !ok {
		s.ns.out = false
		ended := s.hasLast && (s.last.Kind == inferior.EventExited || s.last.Kind == inferior.EventKilled)
		if ended && !s.ext.on && len(s.t.Processes()) == 0 {
			return endReply(okReply, OutcomeExited)
		}
		return okReply
	}
	s.noteStop(ev)
	s.buf = s.appendStop(s.buf[:0], ev)
	return dataReply(s.buf)
}

// errAllStopMode rejects what only non-stop mode does.
var errAllStopMode = &protoError{codeInvalid, "not in non-stop mode"}

// vCtrlC answers vCtrlC: an interrupt, as the interrupt byte is in
// all-stop mode. In non-stop mode one running thread stops with SIGINT;
// in all-stop mode, where the target is stopped between packets, the
// interrupt waits for the next resume (noteInterrupt).
func (s *Session) vCtrlC(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	if !s.ns.on {
		s.noteInterrupt()
		return okReply
	}
	if err := s.t.Interrupt(); err != nil {
		return errorReply(err)
	}
	return okReply
}

// haltReasonNonStop answers '?' in non-stop mode: the stops the client
// has not heard of yet, every stopped thread's last stop the client was
// told of, and, for a process with none of these, one stopped thread (a
// launched process's first thread with SIGTRAP, else with no signal);
// its other threads run on. The reply is the first of them, or OK when
// every thread runs; vStopped gives the rest.
func (s *Session) haltReasonNonStop() reply {
	ns := s.t.(NonStopper)
	evs := s.ns.replay
	for {
		ev, ok := ns.NextStop()
		if !ok {
			break
		}
		evs = append(evs, ev)
	}
	told := make(map[inferior.ThreadID]bool)
	for _, ev := range evs {
		told[inferior.ThreadID{PID: ev.PID, TID: ev.TID}] = true
	}
	var idle []inferior.Action
	for _, pid := range s.t.Processes() {
		threads, err := s.t.Threads(pid)
		if err != nil {
			continue
		}
		named := false // a stop of this process is reported
		for _, ev := range evs {
			named = named || ev.PID == pid
		}
		for i, tid := range threads {
			id := inferior.ThreadID{PID: pid, TID: tid}
			if told[id] || s.ns.quiet[id] || !ns.Stopped(id) {
				continue
			}
			ev, ok := s.ns.stops[id]
			switch {
			case ok:
				ev = replayed(ev)
			case named:
				idle = append(idle, inferior.Action{Kind: inferior.Continue, PID: pid, TID: tid})
				continue
			case i == 0 && !s.ext.attachedPIDs[pid]:
				ev = inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: tid, Signal: int(unix.SIGTRAP)}
			default:
				ev = inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: tid}
			}
			named = true
			evs = append(evs, ev)
		}
	}
	if len(idle) > 0 {
		// Threads that stopped for no reason of their own (with their
		// process, at an attach or when the last client left) run on,
		// as gdbserver lets them: the process is reported by one
		// thread. gdb 13 fails an assertion when it connects in
		// non-stop mode to more than one thread stopped so.
		if err := s.t.Resume(idle); err != nil {
			s.log.Warn("resuming idle threads", "err", err)
		}
		s.dropSnapshots()
	}
	s.ns.replay = nil
	if len(evs) == 0 {
		s.ns.out = false
		return okReply
	}
	s.ns.replay = evs[1:]
	s.ns.out = true
	s.noteStop(evs[0])
	s.buf = s.appendStop(s.buf[:0], evs[0])
	return dataReply(s.buf)
}

// resumeNonStop resumes the target in non-stop mode and replies OK at
// once: the stops come as notifications.
func (s *Session) resumeNonStop(actions []inferior.Action) (Outcome, error) {
	for id := range s.ns.quiet {
		for _, a := range actions {
			if a.Matches(id.PID, id.TID) {
				delete(s.ns.quiet, id)
				break
			}
		}
	}
	if err := s.t.Resume(actions); err != nil {
		return 0, s.send(errorReply(fmt.Errorf("resume: %w", err)))
	}
	s.dropSnapshots()
	return 0, s.send(okReply)
}

// stopThreads carries out vCont's t action for thread t in non-stop mode:
// running threads stop, and threads left stopped by an attach (quiet)
// are reported stopped.
func (s *Session) stopThreads(t inferior.ThreadID) error {
	a := inferior.Action{PID: t.PID, TID: t.TID}
	for _, pid := range s.t.Processes() {
		threads, _ := s.t.Threads(pid)
		for _, tid := range threads {
			id := inferior.ThreadID{PID: pid, TID: tid}
			if s.ns.quiet[id] && a.Matches(pid, tid) {
				delete(s.ns.quiet, id)
				s.ns.replay = append(s.ns.replay, inferior.Event{Kind: inferior.EventSignal, PID: pid, TID: tid})
			}
		}
	}
	return s.t.(NonStopper).Stop(t)
}

// attachedNonStop leaves the threads of process pid, just attached to in
// non-stop mode, stopped but quiet: the client believes them running and
// stops them with vCont;t, which reports them.
func (s *Session) attachedNonStop(pid int) reply {
	threads, err := s.t.Threads(pid)
	if err != nil {
		return errorReply(err)
	}
	for _, tid := range threads {
		s.ns.quiet[inferior.ThreadID{PID: pid, TID: tid}] = true
	}
	s.dropSnapshots()
	return okReply
}

// forgetNonStop drops what non-stop mode remembers of process pid.
func (s *Session) forgetNonStop(pid int) {
	for id := range s.ns.stops {
		if id.PID == pid {
			delete(s.ns.stops, id)
		}
	}
	for id := range s.ns.quiet {
		if id.PID == pid {
			delete(s.ns.quiet, id)
		}
	}
}
