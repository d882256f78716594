//go:build linux && amd64

package regs

import (
	"encoding/binary"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file checks the layout and the XSTATE_BV handling against the
// kernel, through a real tracee. It is the only place in the package that
// needs unsafe (to pass an iovec to PTRACE_GETREGSET).

// regset calls PTRACE_GETREGSET or PTRACE_SETREGSET for NT_X86_XSTATE
// and returns the length the kernel reports.
func regset(req int, pid int, buf []byte) (int, error) {
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	_, _, errno := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(pid),
		unix.NT_X86_XSTATE, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(iov.Len), nil
}

// startTracee starts /bin/true stopped at its exec, traced by the calling
// thread, which the caller must have locked.
func startTracee(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a traced process: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		cmd.Wait()
	})
	waitStop(t, pid)
	return pid
}

func waitStop(t *testing.T, pid int) {
	t.Helper()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		t.Fatalf("tracee status %#x, want a SIGTRAP stop", ws)
	}
}

// swXCR0 is where the kernel puts the enabled user state components in the
// area PTRACE_GETREGSET returns: the first 8 of the software-reserved bytes
// 464-511, which the processor never writes (the kernel's
// USER_XSTATE_XCR0_WORD). Signal frames use the same bytes differently.
const swXCR0 = 464

func TestHostLayoutMatchesKernel(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	l, err := HostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.FXSaveOnly {
		t.Skip("kernel runs without XSAVE")
	}
	pid := startTracee(t)

	// Offer more than the layout says: the kernel returns its own size.
	buf := make([]byte, l.Size+4096)
	n, err := regset(unix.PTRACE_GETREGSET, pid, buf)
	if err != nil {
		t.Fatalf("PTRACE_GETREGSET: %v", err)
	}
	if n != l.Size {
		t.Errorf("kernel XSAVE area is %d bytes, HostLayout says %d", n, l.Size)
	}
	if xcr0 := binary.LittleEndian.Uint64(buf[swXCR0:]); xcr0 != l.Features {
		t.Errorf("kernel's XCR0 %#x, HostLayout says %#x", xcr0, l.Features)
	}
	t.Logf("XSTATE_BV at exec: %#x", binary.LittleEndian.Uint64(buf[xsaveHeader:]))

	s := &Set{Layout: l, XSave: buf[:n]}
	if err := unix.PtraceGetRegs(pid, &s.GPR); err != nil {
		t.Fatal(err)
	}
	// A freshly exec'd task has the x87 and SSE defaults.
	for _, c := range []struct {
		n    int
		want uint32
	}{{32, 0x037f}, {33, 0}, {34, 0xffff}, {56, 0x1f80}} {
		b, err := s.AppendRegister(nil, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(b); got != c.want {
			t.Errorf("register %d = %#x at exec, want %#x", c.n, got, c.want)
		}
	}
	b, _ := s.AppendRegister(nil, RIP)
	if got := binary.LittleEndian.Uint64(b); got != s.GPR.Rip {
		t.Errorf("rip = %#x, want %#x", got, s.GPR.Rip)
	}

}

// TestKernelKeepsWrites writes one XSAVE register at a time into a fresh
// tracee, whose components all start in their initial configuration, lets
// the kernel take the area, runs one instruction so that the state passes
// through the hardware, and reads everything back: the register must hold
// the new value and every other register its old one.
func TestKernelKeepsWrites(t *testing.T) {
	l, err := HostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.FXSaveOnly {
		t.Skip("kernel runs without XSAVE")
	}
	one := []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f} // 1.0
	writes := []struct {
		name string
		b    []byte
		// absent says why the host may lack the register.
		absent string
	}{
		{"st0", one, ""},
		{"fctrl", le32(0x027f), ""},
		{"ftag", le32(0x3fff), ""},
		{"fop", le32(0x5d9), ""},
		{"xmm1", seq(16, 0x10), ""},
		{"mxcsr", le32(0x1f80 | 1<<15), ""}, // FZ
		{"ymm3h", seq(16, 0x40), "no AVX"},
		{"xmm17", seq(16, 0x50), "no AVX-512"},
		{"ymm30h", seq(16, 0x60), "no AVX-512"},
		{"k1", le64(0x00ff00ff00ff00ff), "no AVX-512"},
		{"zmm3h", seq(32, 0x70), "no AVX-512"},
		{"zmm17h", seq(32, 0x90), "no AVX-512"},
		{"pkru", le32(0x55555550), "no PKRU"},
	}
	number := map[string]int{}
	for n := range l.NumRegs() {
		info, _ := l.Info(n)
		number[info.Name] = n
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			n, ok := number[w.name]
			if !ok {
				t.Skipf("%s: the host's XCR0 %#x enables no component holding it (%s)", w.name, l.Features, w.absent)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			pid := startTracee(t)
			s := &Set{Layout: l, XSave: make([]byte, l.Size)}
			if _, err := regset(unix.PTRACE_GETREGSET, pid, s.XSave); err != nil {
				t.Fatal(err)
			}
			before := s.AppendG(nil)
			if err := s.SetRegister(n, w.b); err != nil {
				t.Fatal(err)
			}
			if _, err := regset(unix.PTRACE_SETREGSET, pid, s.XSave); err != nil {
				t.Fatalf("PTRACE_SETREGSET: %v", err)
			}
			check := func(when string, skip func(n int) bool) {
				t.Helper()
				got := &Set{Layout: l, XSave: make([]byte, l.Size)}
				if _, err := regset(unix.PTRACE_GETREGSET, pid, got.XSave); err != nil {
					t.Fatal(err)
				}
				for m := range l.NumRegs() {
					if !NeedsXSave(m) || skip(m) {
						continue
					}
					info, _ := l.Info(m)
					b, err := got.AppendRegister(nil, m)
					if err != nil {
						t.Fatal(err)
					}
					want := before[info.Offset : info.Offset+info.Size()]
					if m == n {
						want = w.b
					}
					if !sameRegister(m, b, want) {
						t.Errorf("%s: %s = %x after writing %s, want %x", when, info.Name, b, w.name, want)
					}
				}
			}
			check("before running", func(int) bool { return false })

			if err := unix.PtraceSingleStep(pid); err != nil {
				t.Fatal(err)
			}
			waitStop(t, pid)
			// The last-instruction pointers and opcode (fiseg to
			// fop) are the processor's to change: AMD processors,
			// and Intel ones with FOP and FDP deprecation, save
			// them only while an x87 exception is pending.
			check("after a step", func(n int) bool { return n >= 35 && n <= 39 })
		})
	}
}
