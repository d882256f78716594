package rsp

import (
	"bytes"
	"fmt"
	"slices"

	"procgdb/inferior"
)

// Thread ids, per the manual's "Packets" section: a thread is a hex
// number, "-1" for all threads or "0" for any. With the multiprocess
// feature a thread id may be "pPID.TID", or "pPID" for all threads of a
// process, each part following the same rules. lldb may end some packets
// with a thread id of their own, ";thread:TID;" (withThread).

// parseThreadID decodes a thread id. A bare thread id leaves PID at
// inferior.Any (it names a thread of the current process), except "-1",
// which names all threads of all processes.
func parseThreadID(b []byte) (inferior.ThreadID, error) {
	if len(b) > 0 && b[0] == 'p' {
		pidPart, tidPart, hasTID := bytes.Cut(b[1:], []byte("."))
		pid, err := parseThreadPart(pidPart)
		if err != nil {
			return inferior.ThreadID{}, fmt.Errorf("thread id %q: process: %w", b, err)
		}
		tid := inferior.All
		if hasTID {
			if tid, err = parseThreadPart(tidPart); err != nil {
				return inferior.ThreadID{}, fmt.Errorf("thread id %q: thread: %w", b, err)
			}
		}
		return inferior.ThreadID{PID: pid, TID: tid}, nil
	}
	tid, err := parseThreadPart(b)
	if err != nil {
		return inferior.ThreadID{}, fmt.Errorf("thread id %q: %w", b, err)
	}
	if tid == inferior.All {
		return inferior.ThreadID{PID: inferior.All, TID: inferior.All}, nil
	}
	return inferior.ThreadID{PID: inferior.Any, TID: tid}, nil
}

// parseThreadPart decodes one part of a thread id: hex, or "-1".
func parseThreadPart(b []byte) (int, error) {
	if string(b) == "-1" {
		return inferior.All, nil
	}
	return parseHexInt(b)
}

// appendThreadID appends id in the syntax the client negotiated.
func appendThreadID(dst []byte, id inferior.ThreadID, multiprocess bool) []byte {
	if multiprocess {
		dst = appendThreadPart(append(dst, 'p'), id.PID)
		dst = append(dst, '.')
	}
	return appendThreadPart(dst, id.TID)
}

func appendThreadPart(dst []byte, v int) []byte {
	if v < 0 {
		return append(dst, "-1"...)
	}
	return appendHexUint(dst, uint64(v))
}

// Thread ids arrive in the client's terms, where 0 and -1 stand for sets of
// threads and a bare thread id has no process. These methods check them
// against the target and fill in what the client left to the stub.

// checkThread checks that a specific thread in id exists and fills in its
// process; "any" and "all" are returned as they are, after checking the
// process if one is named.
func (s *Session) checkThread(id inferior.ThreadID) (inferior.ThreadID, error) {
	switch {
	case id.PID == inferior.All, id.PID == inferior.Any && id.TID == inferior.All:
		// All threads of all processes, or of "any" process, which in
		// all-stop comes to the same.
		return inferior.ThreadID{PID: inferior.All, TID: inferior.All}, nil
	case id.TID > 0 && id.PID == inferior.Any:
		return s.locate(id.TID)
	case id.TID > 0:
		threads, err := s.t.Threads(id.PID)
		if err != nil || !slices.Contains(threads, id.TID) {
			return inferior.ThreadID{}, fmt.Errorf("%s: %w", s.formatThread(id), errUnknownThread)
		}
		return id, nil
	case id.PID > 0:
		if err := s.knownProcess(id.PID); err != nil {
			return inferior.ThreadID{}, err
		}
	}
	return id, nil
}

// locate finds the process of thread tid.
func (s *Session) locate(tid int) (inferior.ThreadID, error) {
	for _, pid := range s.t.Processes() {
		if threads, err := s.t.Threads(pid); err == nil && slices.Contains(threads, tid) {
			return inferior.ThreadID{PID: pid, TID: tid}, nil
		}
	}
	return inferior.ThreadID{}, fmt.Errorf("thread %d: %w", tid, errUnknownThread)
}

// pickThread turns a checked id that allows any thread of a process (or of
// any process) into one thread: the thread of the last stop when it
// qualifies, else the process's first thread.
func (s *Session) pickThread(id inferior.ThreadID) (inferior.ThreadID, error) {
	if id.TID > 0 {
		return id, nil
	}
	last, err := s.lastStop()
	if err != nil {
		return inferior.ThreadID{}, err
	}
	if last.TID > 0 && (id.PID <= 0 || id.PID == last.PID) {
		return inferior.ThreadID{PID: last.PID, TID: last.TID}, nil
	}
	pid := id.PID
	if pid <= 0 {
		procs := s.t.Processes()
		if len(procs) == 0 {
			return inferior.ThreadID{}, errNoProcesses
		}
		pid = procs[0]
	}
	threads, err := s.t.Threads(pid)
	if err != nil {
		return inferior.ThreadID{}, fmt.Errorf("threads of %d: %w", pid, err)
	}
	if len(threads) == 0 {
		return inferior.ThreadID{}, fmt.Errorf("process %d has no threads: %w", pid, errUnknownProcess)
	}
	return inferior.ThreadID{PID: pid, TID: threads[0]}, nil
}

// currentThread is the thread that g, p, qC and the like apply to: the Hg
// thread, or one the stub picks when Hg allows any.
func (s *Session) currentThread() (inferior.ThreadID, error) {
	return s.pickThread(s.general)
}

// currentProcess is the process that memory and breakpoint packets apply
// to: the Hg thread's.
func (s *Session) currentProcess() (int, error) {
	if s.general.PID > 0 {
		return s.general.PID, nil
	}
	t, err := s.currentThread()
	return t.PID, err
}

// formatThread formats id for messages and replies.
func (s *Session) formatThread(id inferior.ThreadID) string {
	return string(appendThreadID(nil, id, s.multiprocess))
}

// parseThreadSuffix splits ";thread:TID;" off the end of p. ok is false
// when p has no suffix.
func parseThreadSuffix(p []byte) (rest []byte, t inferior.ThreadID, ok bool, err error) {
	i := bytes.LastIndex(p, []byte(";thread:"))
	if i < 0 {
		return p, inferior.ThreadID{}, false, nil
	}
	id := bytes.TrimSuffix(p[i+len(";thread:"):], []byte(";"))
	if t, err = parseThreadID(id); err != nil {
		return p, inferior.ThreadID{}, false, fmt.Errorf("thread suffix: %w", err)
	}
	return p[:i], t, true, nil
}

// withThread adapts the handler of a packet that lldb may end with a
// thread suffix, ";thread:TID;" (g, G, p, P, QSaveRegisterState and
// QRestoreRegisterState, once the client sent QThreadSuffixSupported).
// h gets the thread the packet applies to: the suffix's, checked to be one
// thread, else the Hg selection; and the arguments without the suffix.
func withThread(h func(s *Session, sel inferior.ThreadID, args []byte) reply) func(*Session, []byte) reply {
	return func(s *Session, args []byte) reply {
		sel, args, err := s.packetThread(args)
		if err != nil {
			return errorReply(err)
		}
		return h(s, sel, args)
	}
}

// packetThread splits the thread suffix, if any, off a packet's arguments
// and returns the thread the packet applies to (see withThread).
func (s *Session) packetThread(args []byte) (inferior.ThreadID, []byte, error) {
	if !s.dialect.threadSuffix {
		return s.general, args, nil
	}
	rest, t, ok, err := parseThreadSuffix(args)
	if err != nil || !ok {
		return s.general, args, err
	}
	if t, err = s.checkThread(t); err != nil {
		return s.general, args, err
	}
	if t.TID <= 0 {
		return s.general, args, fmt.Errorf("thread suffix names no single thread: %w", errUnknownThread)
	}
	return t, rest, nil
}
