package target

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
)

// Stepping over a breakpoint out of line: a thread that must get past
// an int3 of ours (a condition was false, a dprintf printed, an internal
// breakpoint of another thread's range step) executes a copy of the
// original instruction in a scratch page of its process and comes back
// (breakpoint.Displace), while the int3 stays in place for every other
// thread, which may be running all along. gdb calls this displaced
// stepping; gdbserver stops every thread instead, lifts the int3 and
// steps in place, which is what procgdb falls back to where an
// instruction cannot run out of line (Displace's refusals: system calls,
// traps, what does not decode with certainty).
//
// The scratch pages are anonymous, read and execute only, mapped by the
// thread itself (an mmap made from the syscall instruction of the vDSO,
// whose code is never written, so that running threads see nothing
// change). A RIP-relative operand must stay within ±2 GiB of its data,
// and a PIE program and its libraries lie further apart, so there is a
// page near each region of code that needs one: the first page that
// fits the instruction and has a free slot is used, and a new one is
// mapped in the hole nearest the breakpoint otherwise. Each breakpoint
// address keeps its slot, written once, and again only if the code under
// the breakpoint changed (the copy is checked against it at each pass). A forked child inherits the pages
// (the copy of the address space holds them), a vfork child shares them
// with its parent, an exec drops them; a detach unmaps them.

// scratch is the out-of-line stepping state of one address space.
type scratch struct {
	pages []uint64 // mapped scratch pages
	used  []int    // the slots taken in each page, from its start
	// copies holds the instruction of each breakpoint address stepped
	// out of line, as written in its slot: a breakpoint hit again is
	// stepped without writing anything while its code is unchanged.
	copies map[uint64]copied
	// gadget is the address of a syscall instruction procgdb may make a
	// thread run (in the vDSO); 0 until looked for, and noGadget once
	// looked for in vain.
	gadget   uint64
	noGadget bool
	// pads holds the pads of the breakpoints whose conditions run in the
	// process (pad.go), by breakpoint address; noPad, the conditions
	// that could not have one there.
	pads  map[uint64]*padded
	noPad map[uint64]*breakpoint.Actions
}

// copied is an instruction written in a slot of a scratch page.
type copied struct {
	d    *breakpoint.Displaced
	slot uint64
	orig []byte // the original instruction's bytes
}

// clone returns the state of a forked copy of the address space.
func (s *scratch) clone() *scratch {
	c := *s
	c.pages = slices.Clone(s.pages)
	c.used = slices.Clone(s.used)
	c.copies = maps.Clone(s.copies)
	c.pads, c.noPad = maps.Clone(s.pads), maps.Clone(s.noPad)
	return &c
}

const (
	pageSize = 4096
	// slotSize is what one displaced instruction takes in a scratch page,
	// with its jumps back, and int3 padding.
	slotSize = breakpoint.SlotSize
	// mapFixedNoReplace maps at the address asked or fails (Linux 4.17);
	// older kernels take the address as a hint, which is checked.
	mapFixedNoReplace = 0x100000
	// scratchReach is how far from a breakpoint a new scratch page may
	// lie: half of a RIP-relative operand's reach, so that data on the
	// breakpoint's far side fits too.
	scratchReach = 1 << 30
)

// errNoScratch is a refusal to step out of line for want of a scratch
// page.
var errNoScratch = fmt.Errorf("no scratch page: %w", breakpoint.ErrNotDisplaceable)

// errNotAside wraps the reason why stepAside did nothing: the caller
// steps in place instead.
var errNotAside = errors.New("not stepped out of line")

// stepAside moves th, stopped with its PC on an int3 of ours (the
// client's breakpoint or an internal one), past the instruction the int3
// replaced without touching any other thread: they may be running, and
// keep seeing the int3. It executes the instruction out of line. With
// run, when the copy comes back by itself (breakpoint.Displaced.Free),
// th runs through it and on, and its next stop maps its PC back if it is
// still in the scratch page (leaveAside): one stop per pass of a
// breakpoint. Otherwise it single-steps the copy and returns like
// stepAlone: the event the step ended with (inferior.EventStep
// for th when the instruction ran), none when th is gone or stopped at
// its exit. Its PC is then in the original code: after the instruction,
// or still on the breakpoint when a signal came first (the event). A
// signal that passes silently meanwhile waits for th's next run
// (th.deliver). The step is made and waited for on the spot, which is
// safe because no instruction that can block (a system call) is run out
// of line.
//
// It refuses, with an error wrapping errNotAside and th where it was (a
// thread that reached an event or its end while a scratch page was being
// mapped is not refused: that is the step's end), an instruction that
// cannot run out of line (breakpoint.ErrNotDisplaceable), a thread that
// has a signal to take (which would be delivered from the scratch page),
// a process where no scratch page can be mapped, and one whose memory or
// registers fail it: the caller must then stop every other thread and
// step in place (stepOver), which copes with a process that is dying.
// Must run on the loop.
func (t *Tracer) stepAside(th *thread, run bool) (ev inferior.Event, ok bool, err error) {
	d, slot, ev, ok, err := t.prepareAside(th)
	switch {
	case err != nil && t.threadGone(th):
		return inferior.Event{}, false, nil
	case err != nil:
		return inferior.Event{}, false, fmt.Errorf("thread %d: %w: %w", th.tid, errNotAside, err)
	case ok || d == nil:
		return ev, ok, nil
	}
	th.passing = false
	if run && d.Free {
		th.aside, t.passed = true, true
		t.cont(th)
		return inferior.Event{}, false, nil
	}
	start, end := th.rangeStart, th.rangeEnd
	th.rangeStart, th.rangeEnd = 0, 0
	defer func() { th.rangeStart, th.rangeEnd = start, end }()
	for {
		ev, ok, err = t.stepAlone(th, 0)
		if err != nil || t.threads[th.tid] != th || th.state != stopped {
			return ev, ok, err
		}
		// At its exit the thread has its registers still: its PC is
		// put back too, for a client that looks.
		rip, err := t.pc(th)
		if err != nil {
			return ev, ok, err
		}
		if rip == slot && ok && ev.Kind == inferior.EventStep && ev.TID == th.tid {
			// A rep-prefixed string instruction traps after each
			// iteration: on with the rest.
			continue
		}
		return ev, ok, t.comeBack(th, d, rip, slot)
	}
}

// prepareAside readies th's step out of line: the instruction at its PC,
// displaced and written at a slot of a scratch page, where th's PC then
// is. d is nil when th reached an event (ev) or its end while a page was
// being mapped. Must run on the loop.
func (t *Tracer) prepareAside(th *thread) (d *breakpoint.Displaced, slot uint64, ev inferior.Event, ok bool, err error) {
	if th.deliver != 0 {
		return nil, 0, ev, false, fmt.Errorf("signal %d to take: %w", th.deliver, breakpoint.ErrNotDisplaceable)
	}
	pc, err := t.pc(th)
	if err != nil {
		return nil, 0, ev, false, err
	}
	p := th.proc
	if !p.bps.Planted(pc) {
		return nil, 0, ev, false, fmt.Errorf("at %#x: %w", pc, breakpoint.ErrNotInserted)
	}
	code, err := p.instruction(pc)
	if err != nil {
		return nil, 0, ev, false, err
	}
	s := p.scratch
	if c, ok := s.copies[pc]; ok && bytes.HasPrefix(code, c.orig) {
		return c.d, c.slot, ev, false, t.setPC(th, c.slot)
	}
	d, slot, ev, ok, err = t.displace(th, code, pc)
	if err != nil || ok || t.threadGone(th) {
		return nil, 0, ev, ok, err
	}
	if err := p.writeScratch(slot, d.Code, slotSize); err != nil {
		return nil, 0, ev, false, err
	}
	if s.copies == nil {
		s.copies = make(map[uint64]copied)
	}
	s.copies[pc] = copied{d: d, slot: slot, orig: slices.Clone(code[:d.Len])}
	return d, slot, ev, false, t.setPC(th, slot)
}

// leaveAside maps back the PC of th, which ran into a slot of a scratch
// page (stepAside) and has stopped since: to the instruction after the
// displaced one if it ran, to the breakpoint if it did not (a signal
// came first, or a rep-prefixed instruction is not done), where th is
// put back to pass it as after a hit. A thread that left the slot keeps
// its PC. Must run on the loop.
func (t *Tracer) leaveAside(th *thread) {
	th.aside = false
	rip, err := t.pc(th)
	if err != nil {
		return
	}
	for pc, c := range th.proc.scratch.copies {
		if rip < c.slot || rip >= c.slot+slotSize {
			continue
		}
		to := c.d.PC(rip)
		if err := t.setPC(th, to); err != nil {
			t.log.Warn("leave scratch page", "tid", th.tid, "err", err)
		}
		if to == pc {
			th.hitAt, th.passing = pc, true
		}
		return
	}
}

// take finds the first run of n free slots, in a scratch page, whose
// address fits accepts, marks them used, and returns the address. A run
// may start past a page's first free slot (a pad's window, which the
// page straddles): the slots it skips are lost.
func (s *scratch) take(n int, fits func(at uint64) bool) (uint64, bool) {
	for i, page := range s.pages {
		for j := s.used[i]; j+n <= pageSize/slotSize; j++ {
			if at := page + uint64(j)*slotSize; fits(at) {
				s.used[i] = j + n
				return at, true
			}
		}
	}
	return 0, false
}

// instruction returns the program's own bytes at pc, breakpoints
// shadowed, as many as an instruction may take (fewer where memory ends).
func (p *process) instruction(pc uint64) ([]byte, error) {
	code := make([]byte, 15)
	n, err := p.mem.read(pc, code)
	if err != nil {
		return nil, err
	}
	p.bps.Shadow(pc, code[:n])
	return code[:n], nil
}

// writeScratch writes code at at in a scratch page, padded with int3 to
// size bytes.
func (p *process) writeScratch(at uint64, code []byte, size int) error {
	buf := append(slices.Clone(code), bytes.Repeat([]byte{breakpoint.Int3}, size-len(code))...)
	if _, err := p.mem.forceWrite(at, buf); err != nil {
		return fmt.Errorf("write scratch page at %#x: %w", at, err)
	}
	return nil
}

// threadGone reports whether th is gone or at its exit, with nothing
// left to step. Must run on the loop.
func (t *Tracer) threadGone(th *thread) bool {
	return t.threads[th.tid] != th || th.state != stopped || th.exitPending
}

// comeBack moves th's PC, at rip after a step of d at slot, back into the
// original code, and for a call the return address it pushed.
// Must run on the loop.
func (t *Tracer) comeBack(th *thread, d *breakpoint.Displaced, rip, slot uint64) error {
	if err := t.setPC(th, d.PC(rip)); err != nil {
		return err
	}
	pushed, want, ok := d.ReturnAddress()
	if !ok || rip == slot {
		return nil
	}
	sp := th.regs.set.GPR.Rsp
	var w [8]byte
	if n, err := th.proc.mem.read(sp, w[:]); err != nil || n < len(w) || binary.LittleEndian.Uint64(w[:]) != pushed {
		return nil // not pushed: the call faulted
	}
	binary.LittleEndian.PutUint64(w[:], want)
	if _, err := th.proc.mem.write(sp, w[:]); err != nil {
		return fmt.Errorf("return address at %#x: %w", sp, err)
	}
	return nil
}

// displace prepares the instruction in code, at pc, to run in a slot of a
// scratch page of th's process: the one it had if its code changed, or a
// free one, in a page mapped for it where none fits. It returns it with
// the slot's address. Mapping a page runs a system call in th: an
// event th reaches meanwhile (a signal the client must hear of) is
// returned instead, th still on the breakpoint. Must run on the loop.
func (t *Tracer) displace(th *thread, code []byte, pc uint64) (d *breakpoint.Displaced, slot uint64, ev inferior.Event, ok bool, err error) {
	// What cannot run out of line anywhere is refused before any page is
	// mapped for it.
	if _, err := breakpoint.Displace(code, pc, pc); err != nil {
		return nil, 0, inferior.Event{}, false, err
	}
	s := th.proc.scratch
	if c, ok := s.copies[pc]; ok {
		if d, err := breakpoint.Displace(code, pc, c.slot); err == nil {
			return d, c.slot, inferior.Event{}, false, nil
		}
	}
	if slot, ok := s.take(1, func(at uint64) bool {
		d, err = breakpoint.Displace(code, pc, at)
		return err == nil
	}); ok {
		return d, slot, inferior.Event{}, false, nil
	}
	page, ev, ok, err := t.mapScratch(th, func(ms []Mapping) (uint64, bool) { return nearestHole(ms, pc) })
	if err != nil || ok {
		return nil, 0, ev, ok, err
	}
	d, err = breakpoint.Displace(code, pc, page)
	if err == nil {
		s.used[len(s.used)-1]++
	}
	return d, page, inferior.Event{}, false, err
}

// mapScratch maps a scratch page in th's process, at the free page hole
// picks in its address space (nearestHole, holeIn), by making th run
// mmap: from the vDSO's syscall instruction while other threads may run,
// or from th's own PC when none runs (worldStopped). It returns the
// page's address, or the event th reached meanwhile. Must run on the
// loop.
func (t *Tracer) mapScratch(th *thread, hole func([]Mapping) (uint64, bool)) (uint64, inferior.Event, bool, error) {
	p := th.proc
	s := p.scratch
	at := t.syscallGadget(p)
	if at == 0 && !t.worldStopped(p) {
		return 0, inferior.Event{}, false, errNoScratch
	}
	maps, err := os.ReadFile(procPath(p.mem.pid, "maps"))
	if err != nil {
		return 0, inferior.Event{}, false, err
	}
	ms, err := parseMaps(maps)
	if err != nil {
		return 0, inferior.Event{}, false, err
	}
	page, found := hole(ms)
	if !found {
		return 0, inferior.Event{}, false, errNoScratch
	}
	queued := len(t.queue)
	addr, err := t.injectSyscall(th, at, unix.SYS_MMAP, []uint64{page, pageSize, unix.PROT_READ | unix.PROT_EXEC,
		unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | mapFixedNoReplace, ^uint64(0), 0})
	if len(t.queue) > queued {
		// th reached an event the client must hear of: that first.
		ev := t.queue[queued]
		t.queue = append(t.queue[:queued], t.queue[queued+1:]...)
		return 0, ev, true, nil
	}
	switch {
	case err != nil:
		return 0, inferior.Event{}, false, err
	case int64(addr) < 0 && int64(addr) >= -4095:
		// EEXIST: the program mapped the hole meanwhile. Next time.
		t.log.Debug("map scratch page", "pid", p.pid, "at", hole, "errno", unix.Errno(-int64(addr)))
		return 0, inferior.Event{}, false, errNoScratch
	}
	s.pages, s.used = append(s.pages, addr), append(s.used, 0)
	t.log.Debug("scratch page", "pid", p.pid, "at", addr)
	return addr, inferior.Event{}, false, nil
}

// worldStopped reports whether every thread of p's address space is
// stopped. Must run on the loop.
func (t *Tracer) worldStopped(p *process) bool {
	for _, o := range t.threads {
		if o.proc.scratch == p.scratch && o.state == running {
			return false
		}
	}
	return true
}

// nearestHole returns the page-aligned address of a free page nearest
// near in the address space ms describes (sorted, as the kernel lists
// it), at most scratchReach away; found is false if none is.
func nearestHole(ms []Mapping, near uint64) (addr uint64, found bool) {
	near &^= pageSize - 1
	best := ^uint64(0)
	consider := func(from, to uint64) { // the hole [from, to)
		from, to = max(from, holeLow), min(to, holeHigh)
		if to < from+pageSize {
			return
		}
		a := min(max(near, from), to-pageSize)
		dist := max(a, near) - min(a, near)
		if dist <= scratchReach && dist < best {
			addr, found, best = a, true, dist
		}
	}
	prev := uint64(0)
	for _, m := range ms {
		consider(prev, m.Start)
		prev = max(prev, m.End)
	}
	consider(prev, holeHigh)
	return addr, found
}

// Where a scratch page may go: above mmap_min_addr, below the top of the
// user address space.
const holeLow, holeHigh = 1 << 20, 1<<47 - pageSize

// holeIn returns the address of the first free page in the address
// space ms describes with a byte in [first, last].
func holeIn(ms []Mapping, first, last uint64) (addr uint64, found bool) {
	first, last = max(first&^(pageSize-1), holeLow), min(last, holeHigh)
	prev := uint64(0)
	for _, m := range ms {
		if a := max(prev, first); a <= last && a+pageSize <= m.Start {
			return a, true
		}
		prev = max(prev, m.End)
	}
	if a := max(prev, first); a <= last {
		return a, true
	}
	return 0, false
}

// syscallGadget returns the address of a syscall instruction in p's
// vDSO, looked for once per address space; 0 if there is none.
// Must run on the loop.
func (t *Tracer) syscallGadget(p *process) uint64 {
	s := p.scratch
	if s.gadget != 0 || s.noGadget {
		return s.gadget
	}
	s.noGadget = true
	b, err := os.ReadFile(procPath(p.mem.pid, "maps"))
	if err != nil {
		return 0
	}
	ms, err := parseMaps(b)
	if err != nil {
		return 0
	}
	for _, m := range ms {
		if m.Path != "[vdso]" || !m.Executable() {
			continue
		}
		code := make([]byte, m.End-m.Start)
		n, _ := p.mem.read(m.Start, code)
		if i := bytes.Index(code[:n], syscallInsn[:]); i >= 0 {
			s.gadget, s.noGadget = m.Start+uint64(i), false
		}
		break
	}
	return s.gadget
}

// unmapScratch unmaps p's scratch pages, running munmap in one of its
// stopped threads, unless another process shares the address space (a
// vfork child's). Must run on the loop.
func (t *Tracer) unmapScratch(p *process) error {
	s := p.scratch
	if len(s.pages) == 0 {
		return nil
	}
	for _, o := range t.procs {
		if o != p && o.scratch == s {
			return nil
		}
	}
	ths := t.sortedThreads(func(th *thread) bool { return th.proc == p && th.state == stopped && !th.exitPending })
	if len(ths) == 0 {
		return nil // dying: the pages go with it
	}
	var errs []error
	for _, page := range s.pages {
		ret, err := t.injectSyscall(ths[0], t.syscallGadget(p), unix.SYS_MUNMAP, []uint64{page, pageSize})
		if err == nil && int64(ret) < 0 {
			err = unix.Errno(-int64(ret))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("unmap scratch page %#x: %w", page, err))
		}
	}
	s.pages, s.used, s.copies, s.pads, s.noPad = nil, nil, nil, nil, nil
	return errors.Join(errs...)
}
