package target

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// Attach takes control of a running process and all of its threads, and
// stops them. Wait is not involved: the stop after Attach is the initial
// state, as after Launch. Its error says what keeps procgdb from the
// process, for the person who named it: "cannot attach to process N: it
// has exited, and is a zombie until its parent reaps it".
func (c *Ctl) Attach(pid int) error {
	err := errors.New("procgdb is debugging it already")
	if c.t.procs[pid] == nil {
		if err = c.t.start(); err == nil {
			err = c.t.attach(pid)
		}
	}
	if err != nil {
		return fmt.Errorf("cannot attach to process %d: %w", pid, err)
	}
	return nil
}

// attach must run on the loop.
func (t *Tracer) attach(pid int) error {
	// Threads may be created while we go: list until a pass finds no
	// new one. Threads created after their creator was seized are caught
	// by its clone events instead (handled below while stopping).
	var seized []int
	for {
		tids, err := listTasks(pid)
		if errors.Is(err, os.ErrNotExist) {
			return errnoError{unix.ESRCH}
		}
		if err != nil {
			return err
		}
		added := false
		for _, tid := range tids {
			if slices.Contains(seized, tid) {
				continue
			}
			if err := ptraceSeize(tid, ptraceOptions); err != nil {
				if errors.Is(err, unix.ESRCH) && tid != pid {
					continue // exited meanwhile
				}
				t.release(seized)
				return seizeError(pid, tid, err)
			}
			seized = append(seized, tid)
			added = true
		}
		if !added {
			break
		}
	}
	if !slices.Contains(seized, pid) {
		t.release(seized)
		return &reasonError{"it has exited", unix.ESRCH}
	}
	if err := t.addProcess(pid, true, nil); err != nil {
		t.release(seized)
		return err
	}
	p := t.procs[pid]
	for _, tid := range seized {
		t.threads[tid] = &thread{tid: tid, proc: p, state: running}
	}
	// Only its threads: in non-stop mode those of other processes run on.
	evs, err := t.stopThreads(func(th *thread) bool { return th.proc == p })
	// Nothing that happened while attaching is the client's business
	// except a process that ended: keep signals for delivery on resume.
	for _, ev := range evs {
		switch {
		case ev.Kind == inferior.EventExited || ev.Kind == inferior.EventKilled:
			t.keep(ev)
		case ev.Kind == inferior.EventSignal:
			if th := t.threads[ev.TID]; th != nil {
				th.deliver = unix.Signal(ev.Signal)
			}
		}
	}
	if t.procs[pid] == nil {
		return &reasonError{"it exited while procgdb attached to it", unix.ESRCH}
	}
	return err
}

// release detaches from threads seized by a failed attach.
func (t *Tracer) release(tids []int) {
	for _, tid := range tids {
		unix.PtraceInterrupt(tid)
		t.wait4(tid)
		ptraceDetach(tid, 0)
	}
}
