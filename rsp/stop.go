package rsp

import (
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/regs"
)

// Stop replies, per the manual's "Stop Reply Packets": a thread that stops
// is reported as "T AA n:r;...", a process that exits as "W AA" (exit
// status) and one killed by a signal as "X AA", where AA is gdb's signal
// number in two hex digits.

// expedited are the registers every T reply carries, so that the client
// can show the innermost frame without asking for them.
var expedited = [...]int{regs.RBP, regs.RSP, regs.RIP}

// stopFormat is what the client negotiated that changes stop replies.
type stopFormat struct {
	multiprocess bool // thread ids are pPID.TID; W and X name the process
	swbreak      bool // the client understands the swbreak stop reason
}

// appendStopReply appends the stop reply for ev. rs holds the stopped
// thread's registers to expedite (nil for none); core is the CPU it last
// ran on, or -1 when unknown.
func appendStopReply(dst []byte, ev StopEvent, f stopFormat, rs *regs.Set, core int) []byte {
	switch ev.Kind {
	case StopExited:
		dst = appendHexByte(append(dst, 'W'), byte(ev.ExitCode))
		return appendProcess(dst, ev.PID, f)
	case StopKilled:
		dst = appendHexByte(append(dst, 'X'), byte(gdbSignal(ev.Signal)))
		return appendProcess(dst, ev.PID, f)
	}
	sig := int(unix.SIGTRAP)
	if ev.Kind == StopSignal {
		sig = ev.Signal
	}
	dst = appendHexByte(append(dst, 'T'), byte(gdbSignal(sig)))
	dst = append(dst, "thread:"...)
	dst = appendThreadID(dst, ThreadID{ev.PID, ev.TID}, f.multiprocess)
	dst = append(dst, ';')
	if rs != nil {
		for _, n := range expedited {
			var raw [8]byte
			val, err := rs.AppendRegister(raw[:0], n)
			if err != nil {
				continue
			}
			dst = append(appendHexByte(dst, byte(n)), ':')
			dst = append(appendHex(dst, val), ';')
		}
	}
	if ev.Kind == StopBreakpoint && f.swbreak {
		dst = append(dst, "swbreak:;"...)
	}
	if core >= 0 {
		dst = append(appendHexUint(append(dst, "core:"...), uint64(core)), ';')
	}
	return dst
}

func appendProcess(dst []byte, pid int, f stopFormat) []byte {
	if !f.multiprocess {
		return dst
	}
	return appendHexUint(append(dst, ";process:"...), uint64(pid))
}

// appendStop appends the stop reply for ev, fetching the registers to
// expedite and the thread's core from the target. Neither is essential: a
// thread whose registers cannot be read is reported without them.
func (s *Session) appendStop(dst []byte, ev StopEvent) []byte {
	var rs *regs.Set
	core := -1
	if ev.Kind != StopExited && ev.Kind != StopKilled {
		t := ThreadID{ev.PID, ev.TID}
		var err error
		if rs, err = s.t.Registers(t, false); err != nil {
			s.log.Debug("stop reply without registers", "thread", s.formatThread(t), "err", err)
			rs = nil
		}
		if _, c, ok := s.t.ThreadInfo(t); ok {
			core = c
		}
	}
	return appendStopReply(dst, ev, stopFormat{s.multiprocess, s.swbreak}, rs, core)
}

// lastStop returns the stop to report for '?': the last one, or, before
// the target has run, a SIGTRAP stop of the first thread, which is how a
// freshly launched or attached process is reported.
func (s *Session) lastStop() (StopEvent, error) {
	if s.hasLast {
		return s.last, nil
	}
	procs := s.t.Processes()
	if len(procs) == 0 {
		return StopEvent{}, errNoProcesses
	}
	threads, err := s.t.Threads(procs[0])
	if err != nil {
		return StopEvent{}, fmt.Errorf("threads of %d: %w", procs[0], err)
	}
	if len(threads) == 0 {
		return StopEvent{}, fmt.Errorf("process %d has no threads: %w", procs[0], errUnknownProcess)
	}
	s.last = StopEvent{Kind: StopSignal, PID: procs[0], TID: threads[0], Signal: int(unix.SIGTRAP)}
	s.hasLast = true
	return s.last, nil
}

// haltReason answers '?' with the last stop.
func (s *Session) haltReason(args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	ev, err := s.lastStop()
	if err != nil {
		return errorReply(err)
	}
	s.buf = s.appendStop(s.buf[:0], ev)
	return dataReply(s.buf)
}
