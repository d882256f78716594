package target

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"procgdb/regs"
)

// regCache holds one thread's registers for the length of one stop: read
// at most once (general registers with one PTRACE_GETREGS, the XSAVE area
// with one PTRACE_GETREGSET, or the FXSAVE image with one
// PTRACE_GETFPREGS for an FXSAVE layout, and only when asked for),
// written back only if changed, just before the thread runs again.
type regCache struct {
	set              regs.Set
	gprOK, xOK       bool
	gprDirty, xDirty bool
}

// invalidate forgets the cached registers; the thread is about to run.
func (c *regCache) invalidate() {
	c.gprOK, c.xOK, c.gprDirty, c.xDirty = false, false, false, false
}

// load reads what is not cached yet. Must run on the loop.
func (c *regCache) load(tid int, layout *regs.Layout, ext bool) error {
	c.set.Layout = layout
	if !c.gprOK {
		if err := unix.PtraceGetRegs(tid, &c.set.GPR); err != nil {
			return fmt.Errorf("registers of %d: %w", tid, err)
		}
		c.gprOK = true
	}
	if ext && !c.xOK {
		if len(c.set.XSave) != layout.Size {
			c.set.XSave = make([]byte, layout.Size)
		}
		if err := getFPState(tid, layout, c.set.XSave); err != nil {
			return fmt.Errorf("xsave registers of %d: %w", tid, err)
		}
		c.xOK = true
	}
	return nil
}

// flush writes changed registers back. Must run on the loop.
func (c *regCache) flush(tid int) error {
	var errs []error
	if c.gprDirty {
		if err := unix.PtraceSetRegs(tid, &c.set.GPR); err != nil {
			errs = append(errs, fmt.Errorf("set registers of %d: %w", tid, err))
		}
		c.gprDirty = false
	}
	if c.xDirty {
		if err := setFPState(tid, c.set.Layout, c.set.XSave); err != nil {
			errs = append(errs, fmt.Errorf("set xsave registers of %d: %w", tid, err))
		}
		c.xDirty = false
	}
	return errors.Join(errs...)
}

// getFPState reads tid's x87, SSE and AVX state into buf in the layout's
// format: the XSAVE area, or the FXSAVE image on kernels without XSAVE,
// which have no NT_X86_XSTATE regset. Must run on the loop.
func getFPState(tid int, layout *regs.Layout, buf []byte) error {
	if layout.FXSaveOnly {
		return ptraceGetFPRegs(tid, buf)
	}
	_, err := ptraceGetXState(tid, buf)
	return err
}

// setFPState writes buf, as getFPState read it, back to tid. Must run on
// the loop.
func setFPState(tid int, layout *regs.Layout, buf []byte) error {
	if layout.FXSaveOnly {
		return ptraceSetFPRegs(tid, buf)
	}
	return ptraceSetXState(tid, buf)
}

// pc returns the thread's program counter. Must run on the loop.
func (t *Tracer) pc(th *thread) (uint64, error) {
	if err := th.regs.load(th.tid, t.layout, false); err != nil {
		return 0, err
	}
	return th.regs.set.GPR.Rip, nil
}

// setPC moves the thread's program counter; written back before it runs.
// Must run on the loop.
func (t *Tracer) setPC(th *thread, pc uint64) error {
	if err := th.regs.load(th.tid, t.layout, false); err != nil {
		return err
	}
	th.regs.set.GPR.Rip = pc
	th.regs.gprDirty = true
	return nil
}

// Registers returns the registers of a stopped thread, with the XSAVE
// area when ext is true. The set is the tracer's cache for this stop: it
// is valid until the next Resume, and a caller that changes it must call
// SetRegisters.
func (c *Ctl) Registers(pid, tid int, ext bool) (*regs.Set, error) {
	th, err := c.t.lookupThread(pid, tid)
	if err != nil {
		return nil, err
	}
	if err := th.regs.load(tid, c.t.layout, ext); err != nil {
		return nil, err
	}
	return &th.regs.set, nil
}

// SetRegisters makes s the registers of a stopped thread. They are
// written to the thread before it runs again.
func (c *Ctl) SetRegisters(pid, tid int, s *regs.Set) error {
	th, err := c.t.lookupThread(pid, tid)
	if err != nil {
		return err
	}
	cache := &th.regs
	if s != &cache.set {
		// flush chooses the request by the layout (setFPState), which a
		// cache never loaded has not got yet.
		cache.set.Layout = c.t.layout
		cache.set.GPR = s.GPR
		if s.XSave != nil {
			cache.set.XSave = append(cache.set.XSave[:0], s.XSave...)
			cache.xOK, cache.xDirty = true, true
		}
	} else if cache.xOK {
		cache.xDirty = true
	}
	cache.gprOK, cache.gprDirty = true, true
	return nil
}
