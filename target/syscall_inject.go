package target

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// System calls made on the program's behalf: lldb allocates memory in the
// process for the code and data of the expressions it evaluates (_M, _m),
// procgdb maps the scratch pages of out-of-line steps (outofline.go), and
// only the process itself can map memory into its address space. A
// stopped thread is borrowed for one instruction: its registers are saved,
// the two bytes of `syscall` are written at its PC (or, while other
// threads run, the thread is pointed at a syscall instruction that is
// already there), the registers are set for the call, the thread
// single-steps, the result is read from rax, and the bytes and registers
// are put back, whatever happened in between.

// syscallInsn is the x86-64 `syscall` instruction.
var syscallInsn = [2]byte{0x0f, 0x05}

// ErrSyscallFailed wraps the errno a system call made in the process
// returned.
var ErrSyscallFailed = errors.New("system call in the process failed")

// Syscall runs system call nr with up to six arguments in thread tid of
// process pid (its main thread when tid is 0) and returns its result. The
// thread's registers, its signal state and the memory at its PC are
// restored before Syscall returns, also when it fails.
func (c *Ctl) Syscall(pid, tid int, nr uint64, args ...uint64) (uint64, error) {
	if len(args) > 6 {
		return 0, fmt.Errorf("syscall %d: %d arguments: %w", nr, len(args), unix.EINVAL)
	}
	if tid == 0 {
		tid = pid
	}
	var ret uint64
	th, err := c.t.lookupThread(pid, tid)
	if err == nil {
		ret, err = c.t.injectSyscall(th, 0, nr, args)
	}
	if err != nil {
		return 0, fmt.Errorf("syscall %d in %d.%d: %w", nr, pid, tid, err)
	}
	if int64(ret) < 0 && int64(ret) >= -4095 {
		return 0, fmt.Errorf("syscall %d in %d.%d: %w: %w", nr, pid, tid, ErrSyscallFailed, unix.Errno(-int64(ret)))
	}
	return ret, nil
}

// injectSyscall does Syscall's work: th runs system call nr with args,
// from the syscall instruction at at, or, for at 0, from one written at
// its PC for the time of the call (so no other thread may run). It returns
// rax, a negative errno when the call failed. Must run on the loop.
func (t *Tracer) injectSyscall(th *thread, at, nr uint64, args []uint64) (ret uint64, err error) {
	if th.exitPending {
		return 0, fmt.Errorf("thread %d is exiting: %w", th.tid, inferior.ErrNoThread)
	}
	p := th.proc
	if err := th.regs.load(th.tid, t.layout, false); err != nil {
		return 0, err
	}
	saved := th.regs.set.GPR // with any change the client made this stop
	pc := saved.Rip
	sig, deliver, stepping, hitAt := th.sig, th.deliver, th.stepping, th.hitAt
	if at == 0 {
		at = pc
		// The raw bytes, breakpoints included: they are what goes back.
		var orig [len(syscallInsn)]byte
		if n, err := p.mem.read(pc, orig[:]); err != nil || n != len(orig) {
			return 0, fmt.Errorf("read code at %#x: %w", pc, errors.Join(err, unix.EIO))
		}
		defer func() {
			if n, werr := p.mem.forceWrite(pc, orig[:]); werr != nil || n != len(orig) {
				err = errors.Join(err, fmt.Errorf("restore code at %#x: %w", pc, errors.Join(werr, unix.EIO)))
			}
		}()
		if n, err := p.mem.forceWrite(pc, syscallInsn[:]); err != nil || n != len(syscallInsn) {
			return 0, fmt.Errorf("write code at %#x: %w", pc, errors.Join(err, unix.EIO))
		}
	}
	defer func() {
		// Put everything back, on every path.
		if t.threads[th.tid] != th {
			return // it died: nothing to restore
		}
		th.regs.set.GPR = saved
		th.regs.gprOK, th.regs.gprDirty = true, true
		if ferr := th.regs.flush(th.tid); ferr != nil {
			err = errors.Join(err, ferr)
		}
		th.sig, th.deliver, th.stepping, th.hitAt = sig, deliver, stepping, hitAt
	}()

	call := saved
	call.Rip = at
	call.Rax = nr
	// orig_rax -1: the kernel must not treat the thread as interrupted
	// in a system call and restart that one instead of running ours.
	call.Orig_rax = ^uint64(0)
	regs := []*uint64{&call.Rdi, &call.Rsi, &call.Rdx, &call.R10, &call.R8, &call.R9}
	for i, a := range args {
		*regs[i] = a
	}
	th.regs.set.GPR = call
	th.regs.gprDirty = true

	var held unix.Signal
	for {
		if err := t.run(th, inferior.Step, 0); err != nil {
			return 0, err
		}
		ev, ok, err := t.waitThread(th)
		if err != nil {
			return 0, err
		}
		if ok && ev.Kind != inferior.EventStep {
			// Not ours to report now: the client hears of it when the
			// program next runs (the end of the process too).
			t.queue = append(t.queue, ev)
		}
		if t.threads[th.tid] != th || th.state != stopped {
			return 0, fmt.Errorf("thread %d: %w", th.tid, inferior.ErrNoThread)
		}
		if th.deliver != 0 {
			held, th.deliver = th.deliver, 0
		}
		if err := th.regs.load(th.tid, t.layout, false); err != nil {
			return 0, err
		}
		if th.regs.set.GPR.Rip == at+uint64(len(syscallInsn)) {
			break
		}
		if ok && ev.Kind != inferior.EventStep && ev.Kind != inferior.EventSignal {
			return 0, fmt.Errorf("thread %d stopped by %v before the system call", th.tid, ev.Kind)
		}
	}
	if held != 0 {
		deliver = held
	}
	return th.regs.set.GPR.Rax, nil
}

// Mmap maps size bytes of anonymous private memory with protection prot
// (unix.PROT_*) into process pid, running mmap in thread tid, and returns
// the address.
func (c *Ctl) Mmap(pid, tid int, size uint64, prot int) (uint64, error) {
	return c.Syscall(pid, tid, unix.SYS_MMAP, 0, size, uint64(prot),
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0)
}

// Munmap unmaps [addr, addr+size) in process pid, running munmap in
// thread tid.
func (c *Ctl) Munmap(pid, tid int, addr, size uint64) error {
	_, err := c.Syscall(pid, tid, unix.SYS_MUNMAP, addr, size)
	return err
}
