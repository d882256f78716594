package main

import (
	"context"
	"fmt"
	"slices"

	"procgdb/breakpoint"
	"procgdb/inferior"
	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// observer is a tracee as a client that only watches it sees it: a client
// of the daemon (--proc-dir) that connected to a process another client
// controls. It reads memory, registers, threads and files; what would
// change the process or run it (resume, writes, breakpoints and
// watchpoints, kill, signals, allocations) gets an error that says why.
// Its session runs on a goroutine of its own and reaches the tracer with
// Tracer.Do, so it never slows the controller's: memory can be read while
// the controller's program runs (registers only while it is stopped).
// It offers the same optional interfaces as a tracee, so that nothing
// the client was told of changes when it takes control (rsp's
// Session.SetTarget).
type observer struct {
	tt  *tracee
	pid int
	// refusal answers what an observer may not do.
	refusal error
	// left is set when the client detaches: it leaves, and the process
	// stays with its controller.
	left bool
}

func newObserver(tt *tracee, pid int) *observer {
	return &observer{tt: tt, pid: pid,
		refusal: fmt.Errorf("process %d is controlled by another client: this one only observes it", pid)}
}

var (
	_ rsp.Target           = (*observer)(nil)
	_ rsp.EventTarget      = (*observer)(nil)
	_ rsp.ThreadOptioner   = (*observer)(nil)
	_ rsp.RangeReader      = (*observer)(nil)
	_ rsp.CoreReader       = (*observer)(nil)
	_ rsp.SiginfoWriter    = (*observer)(nil)
	_ rsp.CondBreakpointer = (*observer)(nil)
	_ rsp.HWPointer        = (*observer)(nil)
	_ rsp.TLSLocator       = (*observer)(nil)
	_ rsp.OSDataSource     = (*observer)(nil)
	_ rsp.Inspector        = (*observer)(nil)
	_ rsp.Allocator        = (*observer)(nil)
)

// on runs fn, a call of the tracee's, on the tracer's loop.
func on[T any](o *observer, fn func() (T, error)) (T, error) {
	var v T
	err := o.tt.tr.Do(func(*target.Ctl) error {
		var err error
		v, err = fn()
		return err
	})
	return v, err
}

// Reads, through the loop.

func (o *observer) Processes() []int {
	if o.left {
		return nil
	}
	ps, _ := on(o, func() ([]int, error) { return o.tt.Processes(), nil })
	return ps
}

func (o *observer) Threads(pid int) ([]int, error) {
	return on(o, func() ([]int, error) { return o.tt.Threads(pid) })
}

// Registers returns a copy of the registers: the tracer's cache changes
// when the controller resumes the thread.
func (o *observer) Registers(id inferior.ThreadID, ext bool) (*regs.Set, error) {
	return on(o, func() (*regs.Set, error) {
		s, err := o.tt.Registers(id, ext)
		if err != nil {
			return nil, err
		}
		c := *s
		c.XSave = slices.Clone(s.XSave)
		return &c, nil
	})
}

func (o *observer) ReadMemory(pid int, addr uint64, dst []byte) (int, error) {
	return on(o, func() (int, error) { return o.tt.ReadMemory(pid, addr, dst) })
}

func (o *observer) ReadRanges(pid int, ranges []inferior.Range, dst []byte) ([]int, error) {
	return on(o, func() ([]int, error) { return o.tt.ReadRanges(pid, ranges, dst) })
}

func (o *observer) Auxv(pid int) ([]byte, error) {
	return on(o, func() ([]byte, error) { return o.tt.Auxv(pid) })
}

func (o *observer) ExecFile(pid int) (string, error) {
	return on(o, func() (string, error) { return o.tt.ExecFile(pid) })
}

func (o *observer) Libraries(pid int) (uint64, []inferior.Library, error) {
	var libs []inferior.Library
	main, err := on(o, func() (uint64, error) {
		var main uint64
		var err error
		main, libs, err = o.tt.Libraries(pid)
		return main, err
	})
	return main, libs, err
}

func (o *observer) Siginfo(id inferior.ThreadID) ([]byte, error) {
	return on(o, func() ([]byte, error) { return o.tt.Siginfo(id) })
}

func (o *observer) ThreadInfo(id inferior.ThreadID) (string, int, bool) {
	type info struct {
		name string
		core int
		ok   bool
	}
	i, _ := on(o, func() (info, error) {
		n, c, ok := o.tt.ThreadInfo(id)
		return info{n, c, ok}, nil
	})
	return i.name, i.core, i.ok
}

func (o *observer) ThreadCore(id inferior.ThreadID) (int, bool) {
	core, err := on(o, func() (int, error) {
		if c, ok := o.tt.ThreadCore(id); ok {
			return c, nil
		}
		return 0, inferior.ErrNoThread
	})
	return core, err == nil
}

func (o *observer) TLSAddress(id inferior.ThreadID, offset, lm uint64) (uint64, error) {
	return on(o, func() (uint64, error) { return o.tt.TLSAddress(id, offset, lm) })
}

func (o *observer) HWSupport(kind inferior.HWKind) bool {
	ok, _ := on(o, func() (bool, error) { return o.tt.HWSupport(kind), nil })
	return ok
}

func (o *observer) HWSlots() int { return breakpoint.HWSlots }

func (o *observer) ProcessInfo(pid int) (rsp.ProcessInfo, error) {
	return on(o, func() (rsp.ProcessInfo, error) { return o.tt.ProcessInfo(pid) })
}

func (o *observer) MemoryRegions(pid int) ([]rsp.MemoryRegion, error) {
	return on(o, func() ([]rsp.MemoryRegion, error) { return o.tt.MemoryRegions(pid) })
}

func (o *observer) SharedLibraryInfoAddr(pid int) (uint64, error) {
	return on(o, func() (uint64, error) { return o.tt.SharedLibraryInfoAddr(pid) })
}

func (o *observer) Module(pid int, path string) (rsp.ModuleInfo, error) {
	return on(o, func() (rsp.ModuleInfo, error) { return o.tt.Module(pid, path) })
}

// The tables of `info os` come from /proc, not from the tracer.
func (o *observer) OSDataTypes() []rsp.OSDataType { return o.tt.OSDataTypes() }

func (o *observer) OSData(typ string, item func(columns, values []string) bool) error {
	return o.tt.OSData(typ, item)
}

// What the client's session sets for itself is the controller's to set:
// an observer's choices wait until it takes control, when its session
// applies them again.

func (o *observer) SetEventOptions(inferior.EventOptions)                            {}
func (o *observer) SetThreadOptions(inferior.ThreadID, inferior.ThreadOptions) error { return nil }
func (o *observer) SetPassSignals([]int)                                             {}

// Detach lets the client leave; the process stays with its controller.
func (o *observer) Detach(int) error {
	o.left = true
	return nil
}

// Refused: what would change the process or run it.

func (o *observer) SetRegisters(inferior.ThreadID, *regs.Set) error    { return o.refusal }
func (o *observer) WriteMemory(int, uint64, []byte) (int, error)       { return 0, o.refusal }
func (o *observer) InsertBreakpoint(int, uint64) error                 { return o.refusal }
func (o *observer) RemoveBreakpoint(int, uint64) error                 { return o.refusal }
func (o *observer) InsertHWPoint(int, inferior.HWPoint) error          { return o.refusal }
func (o *observer) RemoveHWPoint(int, inferior.HWPoint) error          { return o.refusal }
func (o *observer) Resume([]inferior.Action) error                     { return o.refusal }
func (o *observer) Interrupt() error                                   { return o.refusal }
func (o *observer) Kill(int) error                                     { return o.refusal }
func (o *observer) SetSiginfo(inferior.ThreadID, []byte) error         { return o.refusal }
func (o *observer) FreeMemory(inferior.ThreadID, uint64, uint64) error { return o.refusal }

func (o *observer) SetBreakpointConditions(int, bool, uint64, [][]byte) error { return o.refusal }

func (o *observer) AllocateMemory(inferior.ThreadID, uint64, int) (uint64, error) {
	return 0, o.refusal
}

func (o *observer) WaitStop(context.Context) (inferior.Event, bool, error) {
	return inferior.Event{}, false, o.refusal
}
