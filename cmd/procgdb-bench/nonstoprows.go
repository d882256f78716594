package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The non-stop row: in gdbtarget's calls mode with 64 busy threads (main
// runs too), one busy thread is stopped (vCont;t), its stop notification
// read and acknowledged (vStopped), and the thread resumed (vCont;c),
// while every other thread keeps running. lldb-server does not run in
// non-stop mode.

const (
	nonStopMetric  = "non-stop: stop 1 of 65 running threads"
	nonStopThreads = 64
)

// nonStopRow measures the stop-and-resume round trip with stub k.
func nonStopRow(res *results, k stubKind, prog string, cfg config) error {
	if k.lldb {
		res.markNA(k.name, nonStopMetric)
		res.markNA(k.name, nonStopMetric+" cpu")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := startStub(k, prog, []string{"calls", "2000000000", fmt.Sprint(nonStopThreads)})
	if err != nil {
		return err
	}
	c, err := p.dial(ctx)
	if err != nil {
		p.stop()
		return err
	}
	s := &session{c: c, stub: p, pid: p.cmd.Process.Pid}
	defer s.close()
	tid, err := s.startNonStop()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", nonStopMetric, err, p.out.String())
	}
	n := max(20, cfg.hits/4)
	wall, cpu, err := s.measure(func() error {
		for range n {
			if err := s.stopAndResume(tid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", nonStopMetric, err)
	}
	res.add(k.name, nonStopMetric, float64(n)/wall.Seconds())
	res.add(k.name, nonStopMetric+" cpu", float64(cpu.Nanoseconds())/1e3/float64(n))
	return nil
}

// startNonStop switches the stub to non-stop mode, lets the program run
// and returns, once every thread runs, the id (pPID.TID) of a busy
// thread.
func (s *session) startNonStop() (string, error) {
	if err := s.c.StartNoAck(); err != nil {
		return "", err
	}
	for _, p := range []string{"qSupported:multiprocess+;swbreak+;vContSupported+", "QNonStop:1", "?"} {
		if _, err := s.exchange(p); err != nil {
			return "", err
		}
	}
	if err := s.drainStopped(); err != nil {
		return "", err
	}
	if r, err := s.exchange("vCont;c"); err != nil || r != "OK" {
		return "", fmt.Errorf("vCont;c: %q, %v", r, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		threads, err := s.threadIDs()
		if err != nil {
			return "", err
		}
		if len(threads) == nonStopThreads+1 {
			return threads[len(threads)-1], nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%d threads after a minute, want %d", len(threads), nonStopThreads+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadIDs lists the threads (qfThreadInfo, qsThreadInfo).
func (s *session) threadIDs() ([]string, error) {
	var ids []string
	for q := "qfThreadInfo"; ; q = "qsThreadInfo" {
		r, err := s.exchange(q)
		if err != nil {
			return nil, err
		}
		if r == "l" || !strings.HasPrefix(r, "m") {
			return ids, nil
		}
		ids = append(ids, strings.Split(r[1:], ",")...)
	}
}

// drainStopped sends vStopped until the stub has no stop left.
func (s *session) drainStopped() error {
	for {
		r, err := s.exchange("vStopped")
		if err != nil || r == "OK" {
			return err
		}
	}
}

// stopAndResume stops thread tid, takes its stop notification, and
// resumes it.
func (s *session) stopAndResume(tid string) error {
	if r, err := s.exchange("vCont;t:" + tid); err != nil || r != "OK" {
		return fmt.Errorf("vCont;t: %q, %v", r, err)
	}
	n, err := s.c.Notification()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(n, "Stop:T") || !strings.Contains(n, "thread:"+tid+";") {
		return fmt.Errorf("notification %.60q, want the stop of %s", n, tid)
	}
	if err := s.drainStopped(); err != nil {
		return err
	}
	if r, err := s.exchange("vCont;c:" + tid); err != nil || r != "OK" {
		return fmt.Errorf("vCont;c: %q, %v", r, err)
	}
	return nil
}
