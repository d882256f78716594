package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pvReadBandwidth starts the target without a debugger and copies its
// memory region with process_vm_readv, 1 MiB per call: the most any stub
// can read, in MB/s.
func pvReadBandwidth(prog string, mib int) (float64, error) {
	cmd := exec.Command(prog, fmt.Sprint(mib), fmt.Sprint(seedRead), "0", "wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return 0, fmt.Errorf("target: %q, %v", line, err)
	}
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	size := mib << 20
	best := 0.0
	for range 3 {
		t0 := time.Now()
		for off := 0; off < size; off += chunk {
			n, err := unix.ProcessVMReadv(cmd.Process.Pid,
				[]unix.Iovec{{Base: &buf[0], Len: chunk}},
				[]unix.RemoteIovec{{Base: uintptr(base + off), Len: chunk}}, 0)
			if err != nil || n != chunk {
				return 0, fmt.Errorf("process_vm_readv: %d, %v", n, err)
			}
		}
		best = max(best, float64(size)/1e6/time.Since(t0).Seconds())
	}
	return best, nil
}

// loopbackBandwidth sends n bytes over a loopback TCP connection in 1 MiB
// writes, in MB/s: the most a stub can send a client on this machine.
func loopbackBandwidth(n int) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		for sent := 0; sent < n; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	t0 := time.Now()
	total := 0
	for total < n {
		k, err := c.Read(buf)
		total += k
		if err != nil {
			return 0, err
		}
	}
	d := time.Since(t0)
	if err := <-errc; err != nil {
		return 0, err
	}
	return float64(total) / 1e6 / d.Seconds(), nil
}

// stepFloor measures the least CPU a stub can spend on a single step: a
// tracer that does nothing but PTRACE_SINGLESTEP, wait4 and
// PTRACE_GETREGS (what any stub must do to report a step with its
// registers), run on the target spinning after its two SIGTRAPs. It
// returns the tracer thread's CPU time per step in µs. A stub adds to it
// at least one read and one write of a packet.
func stepFloor(prog string, steps int) (float64, error) {
	type result struct {
		us  float64
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The tracer is the thread that forks the target, for good.
		runtime.LockOSThread()
		us, err := stepLoop(prog, steps)
		done <- result{us, err}
	}()
	r := <-done
	return r.us, r.err
}

func stepLoop(prog string, steps int) (float64, error) {
	cmd := exec.Command(prog, "1", fmt.Sprint(seedRead), "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var ws unix.WaitStatus
	// The exec stop, then the target's two SIGTRAPs, passed over.
	for range 3 {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
			return 0, fmt.Errorf("target did not stop: %v, %v", ws, err)
		}
		if err := unix.PtraceCont(pid, 0); err != nil {
			return 0, err
		}
	}
	if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
		return 0, err
	}
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		return 0, fmt.Errorf("target did not stop spinning: %v, %v", ws, err)
	}
	var regs unix.PtraceRegs
	var r0, r1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &r0)
	for range steps {
		if err := unix.PtraceSingleStep(pid); err != nil {
			return 0, err
		}
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			return 0, err
		}
		if err := unix.PtraceGetRegs(pid, &regs); err != nil {
			return 0, err
		}
	}
	unix.Getrusage(unix.RUSAGE_THREAD, &r1)
	ns := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	return float64(ns) / 1e3 / float64(steps), nil
}
