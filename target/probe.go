package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"procgdb/breakpoint"
	"procgdb/inferior"
)

// Some virtual machines accept debug register settings (DR7 even reads
// back as written) but never deliver the trap: a watched write runs and
// nothing stops the program. A debugger cannot tell from the registers,
// only by trying, so ProbeDebugRegisters runs a program of a few
// instructions under ptrace with a write watchpoint and an instruction
// breakpoint on it, and sees whether both trap before it exits.

// probeBase is where the probe program is loaded: the usual address of
// a static executable, above vm.mmap_min_addr.
const probeBase = 0x400000

// probeCode is the probe program: it writes to the stack slot of
// argv[0] (mapped for sure, and 8-byte aligned: the stack pointer is
// 16-byte aligned at entry), then exits with status 0.
var probeCode = []byte{
	0x48, 0x89, 0x44, 0x24, 0x08, // mov [rsp+8], rax: the watched write
	0x90,                         // nop
	0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit): the instruction breakpoint
	0x31, 0xff, // xor edi, edi
	0x0f, 0x05, // syscall
}

// Offsets in probeCode.
const (
	probeWrite = 0 // the instruction that writes the watched slot
	probeExit  = 6 // the instruction under the instruction breakpoint
)

// probeEntry is the address of probeCode: after the ELF header and the
// one program header.
const probeEntry = probeBase + elfHeaderSize + progHeaderSize

const (
	elfHeaderSize  = 64
	progHeaderSize = 56
)

// probeProgram returns a static x86-64 ELF executable whose one segment
// (readable and executable) holds probeCode.
func probeProgram() []byte {
	size := uint64(elfHeaderSize + progHeaderSize + len(probeCode))
	b := make([]byte, 0, size)
	le := binary.LittleEndian
	// ELF header: 64-bit, little-endian, version 1, System V.
	b = append(b, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	b = le.AppendUint16(b, 2)    // e_type: ET_EXEC
	b = le.AppendUint16(b, 0x3e) // e_machine: EM_X86_64
	b = le.AppendUint32(b, 1)    // e_version
	b = le.AppendUint64(b, probeEntry)
	b = le.AppendUint64(b, elfHeaderSize) // e_phoff
	b = le.AppendUint64(b, 0)             // e_shoff: no sections
	b = le.AppendUint32(b, 0)             // e_flags
	b = le.AppendUint16(b, elfHeaderSize)
	b = le.AppendUint16(b, progHeaderSize)
	b = le.AppendUint16(b, 1) // e_phnum
	b = le.AppendUint16(b, 0) // e_shentsize
	b = le.AppendUint16(b, 0) // e_shnum
	b = le.AppendUint16(b, 0) // e_shstrndx
	// Program header: the whole file, loaded at probeBase.
	b = le.AppendUint32(b, 1)   // p_type: PT_LOAD
	b = le.AppendUint32(b, 4|1) // p_flags: PF_R|PF_X
	b = le.AppendUint64(b, 0)   // p_offset
	b = le.AppendUint64(b, probeBase)
	b = le.AppendUint64(b, probeBase)
	b = le.AppendUint64(b, size) // p_filesz
	b = le.AppendUint64(b, size) // p_memsz
	b = le.AppendUint64(b, 0x1000)
	return append(b, probeCode...)
}

// ProbeDebugRegisters finds out whether this machine delivers the traps
// of the x86 debug registers to a traced process: ok is true when a
// write watchpoint and an instruction breakpoint both stopped a test
// process. reason says what was seen, in words for a log or a test's
// skip; when the probe could not run at all, ok is false and reason says
// why. It takes a millisecond or two, and leaves no process behind.
func ProbeDebugRegisters() (ok bool, reason string) {
	if _, err := probe(); err != nil {
		return false, err.Error()
	}
	return true, "a write watchpoint and an instruction breakpoint trapped in a test process"
}

// probe runs the probe on a thread of its own, which ends with it, and
// returns the PID its test process had (0 if it did not start), gone by
// then.
func probe() (pid int, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread ends with the goroutine, and the
		// test process's tracer with it.
		runtime.LockOSThread()
		pid, err = probeDebugRegisters()
	}()
	<-done
	return pid, err
}

// errNoTrap reports a debug register setting that did not trap;
// errProbe, a probe that could not run at all.
var (
	errNoTrap = errors.New("did not trap")
	errProbe  = errors.New("cannot run the probe")
)

// probeDebugRegisters runs the probe program with a write watchpoint on
// the slot it writes and an instruction breakpoint where it goes next.
// Must run on a locked OS thread (the loop of the one-thread
// rule): the child is traced by the thread that starts it.
func probeDebugRegisters() (pid int, err error) {
	fd, err := unix.MemfdCreate("procgdb-probe", unix.MFD_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("%w: memfd_create: %w", errProbe, err)
	}
	f := os.NewFile(uintptr(fd), "procgdb-probe")
	defer f.Close()
	if _, err := f.Write(probeProgram()); err != nil {
		return 0, fmt.Errorf("%w: %w", errProbe, err)
	}
	// The child execs its own copy of the descriptor, before exec closes
	// it; no file is left anywhere.
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	proc, err := os.StartProcess(path, []string{"procgdb-probe"}, &os.ProcAttr{
		Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errProbe, err)
	}
	pid = proc.Pid
	proc.Release() // reaped with wait4 below
	defer func() {
		unix.Kill(pid, unix.SIGKILL)
		probeWait(pid)
	}()

	// Stopped at its exec, before its first instruction.
	ws, err := probeWait(pid)
	if err != nil || !ws.Stopped() {
		return pid, fmt.Errorf("%w: its process %s", errProbe, probeStatus(ws, err))
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_EXITKILL); err != nil {
		return pid, fmt.Errorf("%w: %w", errProbe, err)
	}
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &r); err != nil {
		return pid, fmt.Errorf("%w: %w", errProbe, err)
	}
	write := inferior.HWPoint{Kind: inferior.HWWrite, Addr: r.Rsp + 8, Len: 8}
	exec := inferior.HWPoint{Kind: inferior.HWExec, Addr: probeEntry + probeExit, Len: 1}
	var hw breakpoint.HWTable
	if err := errors.Join(hw.Insert(write), hw.Insert(exec)); err != nil {
		return pid, fmt.Errorf("%w: %w", errProbe, err)
	}
	if err := pokeDebugRegs(pid, &hw); err != nil {
		return pid, err
	}
	_, want := hw.Registers()
	if got, err := ptracePeekDebugReg(pid, dr7); err != nil || got != want {
		return pid, fmt.Errorf("DR7 reads back %#x (%v), not the %#x written", got, err, want)
	}
	for _, p := range []inferior.HWPoint{write, exec} {
		if err := unix.PtraceCont(pid, 0); err != nil {
			return pid, fmt.Errorf("%w: %w", errProbe, err)
		}
		ws, err := probeWait(pid)
		if err != nil || !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
			return pid, fmt.Errorf("a %v set in the debug registers %w: the test process %s", p.Kind, errNoTrap, probeStatus(ws, err))
		}
		status, err := ptracePeekDebugReg(pid, dr6)
		if err != nil {
			return pid, fmt.Errorf("%w: DR6: %w", errProbe, err)
		}
		if hit, ok := hw.Hit(status); !ok || hit != p {
			return pid, fmt.Errorf("a %v %w: the test process stopped with SIGTRAP and DR6 %#x", p.Kind, errNoTrap, status)
		}
		if err := ptracePokeDebugReg(pid, dr6, 0); err != nil {
			return pid, fmt.Errorf("%w: DR6: %w", errProbe, err)
		}
	}
	return pid, nil
}

// probeWait waits for the probe process's next status.
func probeWait(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if !errors.Is(err, unix.EINTR) {
			return ws, err
		}
	}
}

// probeStatus describes how the probe process's wait ended.
func probeStatus(ws unix.WaitStatus, err error) string {
	switch {
	case err != nil:
		return fmt.Sprintf("could not be waited for: %v", err)
	case ws.Exited():
		return fmt.Sprintf("ran on to its exit (status %d)", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("was killed by %v", ws.Signal())
	case ws.Stopped():
		return fmt.Sprintf("stopped with %v", ws.StopSignal())
	}
	return fmt.Sprintf("changed state (wait status %#x)", uint32(ws))
}
