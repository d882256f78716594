package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
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
