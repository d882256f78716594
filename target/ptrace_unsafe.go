package target

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw ptrace requests that golang.org/x/sys/unix lacks, or offers
// without an argument we need, and a raw process_vm_readv. Every
// unsafe.Pointer of the package is in this file. Each ptrace wrapper must
// run on the loop (see tracer_thread.go).

func ptrace(req int, tid int, addr, data uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// ptraceSeize attaches to tid with its options in the same call, so no
// event can slip through between attaching and setting them.
func ptraceSeize(tid int, options int) error {
	return ptrace(unix.PTRACE_SEIZE, tid, 0, uintptr(options))
}

// ptraceStep single-steps tid, delivering sig (0 for none).
func ptraceStep(tid int, sig int) error {
	return ptrace(unix.PTRACE_SINGLESTEP, tid, 0, uintptr(sig))
}

// ptraceDetach lets tid go, delivering sig (0 for none).
func ptraceDetach(tid int, sig int) error {
	return ptrace(unix.PTRACE_DETACH, tid, 0, uintptr(sig))
}

// ptraceGetSiginfo reads the siginfo_t of the signal tid stopped with.
func ptraceGetSiginfo(tid int, info *[siginfoSize]byte) error {
	return ptrace(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(info)))
}

// ptraceSetSiginfo replaces the siginfo_t of the signal tid stopped
// with, which a resume with that signal delivers.
func ptraceSetSiginfo(tid int, info *[siginfoSize]byte) error {
	return ptrace(unix.PTRACE_SETSIGINFO, tid, 0, uintptr(unsafe.Pointer(info)))
}

// ptracePeekSiginfo copies the first len(infos) signals pending in
// tid's own queue (not its process's) into infos and returns how many
// there were.
func ptracePeekSiginfo(tid int, infos [][siginfoSize]byte) (int, error) {
	if len(infos) == 0 {
		return 0, nil
	}
	// struct ptrace_peeksiginfo_args: off u64, flags u32, nr s32.
	args := struct {
		off   uint64
		flags uint32
		nr    int32
	}{0, 0, int32(len(infos))}
	r, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_PEEKSIGINFO, uintptr(tid),
		uintptr(unsafe.Pointer(&args)), uintptr(unsafe.Pointer(&infos[0])), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// ptraceGetSigmask returns tid's mask of blocked signals (bit n-1 for
// signal n).
func ptraceGetSigmask(tid int) (uint64, error) {
	var mask uint64
	err := ptrace(unix.PTRACE_GETSIGMASK, tid, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	return mask, err
}

// ptraceGetXState reads tid's XSAVE area into buf and returns how many
// bytes the kernel filled.
func ptraceGetXState(tid int, buf []byte) (int, error) {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	err := ptrace(unix.PTRACE_GETREGSET, tid, unix.NT_X86_XSTATE, uintptr(unsafe.Pointer(&iov)))
	return int(iov.Len), err
}

// ptraceSetXState writes tid's XSAVE area from buf.
func ptraceSetXState(tid int, buf []byte) error {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	return ptrace(unix.PTRACE_SETREGSET, tid, unix.NT_X86_XSTATE, uintptr(unsafe.Pointer(&iov)))
}

// ptraceGetFPRegs reads the 512-byte FXSAVE area, for kernels without
// NT_X86_XSTATE.
func ptraceGetFPRegs(tid int, buf []byte) error {
	return ptrace(unix.PTRACE_GETFPREGS, tid, 0, uintptr(unsafe.Pointer(&buf[0])))
}

// ptraceSetFPRegs writes the 512-byte FXSAVE area.
func ptraceSetFPRegs(tid int, buf []byte) error {
	return ptrace(unix.PTRACE_SETFPREGS, tid, 0, uintptr(unsafe.Pointer(&buf[0])))
}

// personality sets the calling thread's execution domain and returns the
// previous one; 0xffffffff only queries it.
func personality(p uint) (uint, error) {
	r, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(p), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return uint(r), nil
}

// ptraceSyscallOp returns whether tid's syscall stop is an entry (1) or
// an exit (2), from PTRACE_GET_SYSCALL_INFO (Linux 5.3), and the system
// call number at entry.
func ptraceSyscallOp(tid int) (op uint8, nr uint64, err error) {
	// struct ptrace_syscall_info: op u8, pad, arch u32, ip u64, sp u64,
	// then entry.nr u64 at offset 24.
	var info [88]byte
	err = ptrace(ptraceGetSyscallInfo, tid, uintptr(len(info)), uintptr(unsafe.Pointer(&info[0])))
	return info[0], *(*uint64)(unsafe.Pointer(&info[24])), err
}

const ptraceGetSyscallInfo = 0x420e

// debugRegOffset is offsetof(struct user, u_debugreg) on x86-64.
const debugRegOffset = 848

// ptracePeekDebugReg reads debug register n of tid.
func ptracePeekDebugReg(tid, n int) (uint64, error) {
	var v uint64
	err := ptrace(unix.PTRACE_PEEKUSR, tid, uintptr(debugRegOffset+8*n), uintptr(unsafe.Pointer(&v)))
	return v, err
}

// ptracePokeDebugReg writes debug register n of tid.
func ptracePokeDebugReg(tid, n int, v uint64) error {
	return ptrace(unix.PTRACE_POKEUSR, tid, uintptr(debugRegOffset+8*n), uintptr(v))
}

// processVMReadvRaw reads dst from addr in process pid with one
// process_vm_readv made as a raw system call, unseen by the Go scheduler
// (memory.readv says when that is worth it). It may run on any thread.
func processVMReadvRaw(pid int, dst []byte, addr uint64) (int, error) {
	local := unix.Iovec{Base: &dst[0], Len: uint64(len(dst))}
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(dst)}
	r, _, errno := unix.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
		uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
