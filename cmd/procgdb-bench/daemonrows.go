package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/internal/dirwatch"
	"procgdb/rsp"
)

// The daemon's rows (procgdb --proc-dir), measured once per bench, as
// root: how long a new process waits for its socket, how long a client
// waits from connect to its first stop reply (against gdbserver --attach
// and procgdb --attach started for the process, from their start), and
// what the daemon costs while processes come and go and nobody connects.

const (
	// churnProcs processes start (and wait), then end; as many again
	// live only a moment.
	churnProcs = 1000
	// idleSpan is how long the daemon's idle CPU is measured with
	// churnProcs sockets.
	idleSpan = 2 * time.Second
	// attachRounds is how many first stops are timed per way of
	// attaching.
	attachRounds = 20
)

// daemonProc is a running procgdb --proc-dir and a watch on its
// directory.
type daemonProc struct {
	cmd *exec.Cmd
	dir string
	w   *dirwatch.Watcher
}

// daemonRows measures procgdb --proc-dir and adds its rows under the stub
// name "daemon" (and the first-stop times under each way of attaching).
func daemonRows(res *results, procgdb string) error {
	d, err := startDaemon(procgdb)
	if err != nil {
		return err
	}
	defer d.stop()
	if err := d.churn(res); err != nil {
		return err
	}
	return d.firstStops(res, procgdb)
}

// startDaemon starts procgdb --proc-dir on a new directory in memory (as
// /run is) and waits until it listens.
func startDaemon(procgdb string) (*daemonProc, error) {
	parent := ""
	var fs unix.Statfs_t
	if unix.Statfs("/dev/shm", &fs) == nil && fs.Type == unix.TMPFS_MAGIC {
		parent = "/dev/shm"
	}
	dir, err := os.MkdirTemp(parent, "procgdb-bench-dir-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	w, err := dirwatch.Watch(dir, 4*churnProcs)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &daemonProc{dir: dir, w: w}
	cmd := exec.Command(procgdb, "--proc-dir", dir)
	stderr, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("start procgdb --proc-dir: %w", err)
	}
	d.cmd = cmd
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if sc.Text() == "Listening on "+dir {
			go io.Copy(io.Discard, stderr)
			return d, nil
		}
	}
	d.stop()
	return nil, fmt.Errorf("procgdb --proc-dir %s did not say it listens", dir)
}

// stop ends the daemon and removes its directory.
func (d *daemonProc) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		d.cmd.Wait()
	}
	d.w.Close()
	os.RemoveAll(d.dir)
}

// until hands the directory's events to done until it returns true, for
// at most a minute.
func (d *daemonProc) until(what string, done func(e dirwatch.Event) bool) error {
	if err := d.w.Until(what, time.Minute, done); err != nil {
		return fmt.Errorf("procgdb --proc-dir: %w", err)
	}
	return nil
}

// usage is the daemon's CPU time so far and its memory now.
func (d *daemonProc) usage() (cpu time.Duration, rss, peak int64, err error) {
	pid := d.cmd.Process.Pid
	ns, err := cpuNanos(pid)
	if err == nil {
		rss, err = statusBytes(pid, "VmRSS")
	}
	if err == nil {
		peak, err = statusBytes(pid, "VmHWM")
	}
	return time.Duration(ns), rss, peak, err
}

// churn starts churnProcs processes (cat, on one pipe) and times each
// one's socket, leaves them idle for idleSpan, ends them and waits for
// their sockets to go, then runs churnProcs processes that exit at once
// (true), measuring the daemon's CPU time in each phase and its memory.
func (d *daemonProc) churn(res *results) error {
	cpu0, rss0, _, err := d.usage()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	started := map[string]time.Time{}
	cats := make([]*exec.Cmd, churnProcs)
	for i := range cats {
		cats[i] = exec.Command("cat")
		cats[i].Stdin = r
		at := time.Now()
		if err := cats[i].Start(); err != nil {
			return err
		}
		started[strconv.Itoa(cats[i].Process.Pid)] = at
	}
	r.Close()
	var lat []time.Duration
	err = d.until("the sockets of the new processes", func(e dirwatch.Event) bool {
		if s, ok := started[e.Name]; ok && e.Made {
			lat = append(lat, e.At.Sub(s))
			delete(started, e.Name)
		}
		return len(started) == 0
	})
	if err != nil {
		return err
	}
	cpu1, _, _, err := d.usage()
	if err != nil {
		return err
	}
	time.Sleep(idleSpan) // the measured stretch, not synchronisation
	cpu2, rss2, _, err := d.usage()
	if err != nil {
		return err
	}
	left := map[string]bool{}
	for _, c := range cats {
		left[strconv.Itoa(c.Process.Pid)] = true
	}
	w.Close()
	for _, c := range cats {
		if err := c.Wait(); err != nil {
			return fmt.Errorf("cat: %w", err)
		}
	}
	err = d.until("the sockets of the ended processes removed", func(e dirwatch.Event) bool {
		if !e.Made {
			delete(left, e.Name)
		}
		return len(left) == 0
	})
	if err != nil {
		return err
	}
	cpu3, _, _, err := d.usage()
	if err != nil {
		return err
	}
	for range churnProcs {
		if err := exec.Command("true").Run(); err != nil {
			return err
		}
	}
	cpu4, _, peak, err := d.usage()
	if err != nil {
		return err
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	res.add("daemon", "socket p50", ms(lat[len(lat)/2]))
	res.add("daemon", "socket p99", ms(lat[len(lat)*99/100]))
	res.add("daemon", "socket max", ms(lat[len(lat)-1]))
	res.add("daemon", "cpu appear", float64(cpu1-cpu0)/1e3/churnProcs)
	res.add("daemon", "cpu idle", ms(cpu2-cpu1)/idleSpan.Seconds())
	res.add("daemon", "cpu vanish", float64(cpu3-cpu2)/1e3/churnProcs)
	res.add("daemon", "cpu brief", float64(cpu4-cpu3)/1e3/churnProcs)
	res.add("daemon", "rss before", float64(rss0)/(1<<20))
	res.add("daemon", "rss sockets", float64(rss2)/(1<<20))
	res.add("daemon", "rss peak", float64(peak)/(1<<20))
	return nil
}

// firstStops times, attachRounds times each, from connect to the first
// stop reply through the daemon's socket, and from start to the first
// stop reply of gdbserver --attach (where installed) and procgdb
// --attach serving the process over stdio, as started by hand.
func (d *daemonProc) firstStops(res *results, procgdb string) error {
	ways := []struct {
		name string
		stop func(pid int) (time.Duration, error)
	}{
		{"daemon", d.firstStop},
		{"procgdb --attach", stdioFirstStop(procgdb)},
	}
	if p, err := exec.LookPath("gdbserver"); err == nil {
		ways = append(ways, struct {
			name string
			stop func(pid int) (time.Duration, error)
		}{"gdbserver --attach", stdioFirstStop(p)})
	}
	for range attachRounds {
		for _, w := range ways {
			cat := exec.Command("cat")
			in, err := cat.StdinPipe()
			if err != nil {
				return err
			}
			if err := cat.Start(); err != nil {
				return err
			}
			pid := cat.Process.Pid
			err = d.until("the socket of a new process", func(e dirwatch.Event) bool { return e.Made && e.Name == strconv.Itoa(pid) })
			var took time.Duration
			if err == nil {
				took, err = w.stop(pid)
			}
			in.Close()
			cat.Wait()
			if err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			res.add(w.name, "first stop", float64(took)/1e6)
		}
	}
	return nil
}

// firstStop connects to process pid's socket, asks for its stop (?),
// and detaches: the time from connect to the stop reply.
func (d *daemonProc) firstStop(pid int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := rsp.Dial(ctx, "unix", filepath.Join(d.dir, strconv.Itoa(pid)))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return stopThenDetach(c, start, pid)
}

// stdioFirstStop returns a way to time stub's --attach: the time from
// starting "stub --attach - PID" to its stop reply.
func stdioFirstStop(stub string) func(pid int) (time.Duration, error) {
	return func(pid int) (time.Duration, error) {
		cmd := exec.Command(stub, "--attach", "-", strconv.Itoa(pid))
		in, err := cmd.StdinPipe()
		if err != nil {
			return 0, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return 0, err
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		defer cmd.Wait()
		c := rsp.NewClient(struct {
			io.Reader
			io.WriteCloser
		}{out, in})
		defer c.Close()
		return stopThenDetach(c, start, pid)
	}
}

// stopThenDetach asks c for the process's stop, then detaches from it:
// the time from start to the stop reply.
func stopThenDetach(c *rsp.Client, start time.Time, pid int) (time.Duration, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, err := c.Exchange("?")
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(r, "T") && !strings.HasPrefix(r, "S") {
		return 0, fmt.Errorf("first stop of process %d: %q", pid, r)
	}
	if r, err := c.Exchange("D"); err != nil || r != "OK" {
		return 0, fmt.Errorf("detach from process %d: %q, %v", pid, r, err)
	}
	return took, nil
}

// printDaemon writes the daemon's rows, if measured.
func (r *results) printDaemon(w io.Writer) {
	if _, ok := r.median("daemon", "socket p50"); !ok {
		return
	}
	fmt.Fprintf(w, "\nprocgdb --proc-dir: %d processes start (cat), idle, end; %d more live a moment (true); nobody connects.\n\n", churnProcs, churnProcs)
	fmt.Fprintf(w, "| %-53s | %-9s | %10s |\n|%s|%s|%s:|\n", "measure", "unit", "value", strings.Repeat("-", 55), strings.Repeat("-", 11), strings.Repeat("-", 11))
	for _, l := range []struct{ stub, metric, label, unit string }{
		{"daemon", "socket p50", "process start to its socket, median", "ms"},
		{"daemon", "socket p99", "process start to its socket, 99th percentile", "ms"},
		{"daemon", "socket max", "process start to its socket, slowest", "ms"},
		{"daemon", "cpu appear", "daemon CPU per process that gets a socket", "µs"},
		{"daemon", "cpu idle", fmt.Sprintf("daemon CPU while idle with %d sockets", churnProcs), "ms/s"},
		{"daemon", "cpu vanish", "daemon CPU per socket removed", "µs"},
		{"daemon", "cpu brief", "daemon CPU per process that lives a moment", "µs"},
		{"daemon", "rss before", "daemon RSS before", "MiB"},
		{"daemon", "rss sockets", fmt.Sprintf("daemon RSS with %d sockets", churnProcs), "MiB"},
		{"daemon", "rss peak", "daemon peak RSS (VmHWM)", "MiB"},
		{"daemon", "first stop", "connect to first stop reply, through DIR/PID", "ms"},
		{"procgdb --attach", "first stop", "start of procgdb --attach - PID to first stop reply", "ms"},
		{"gdbserver --attach", "first stop", "start of gdbserver --attach - PID to first stop reply", "ms"},
	} {
		if v, ok := r.median(l.stub, l.metric); ok {
			fmt.Fprintf(w, "| %-53s | %-9s | %10s |\n", l.label, l.unit, format(v))
		}
	}
	fmt.Fprintf(w, "\nFirst stops: medians of %d rounds, each on a new process (cat).\n", attachRounds)
}
