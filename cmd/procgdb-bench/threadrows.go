package main

import (
	"context"
	"fmt"
	"time"
)

// threadCounts are the stop-cost rows: a breakpoint hit (z0, vCont;s,
// Z0, vCont;c) in a program whose other threads sleep, where every stop
// interrupts and collects each thread.
var threadCounts = []int{8, 64, 512}

func threadMetric(n int) string { return fmt.Sprintf("breakpoint hit, %d threads", n) }

// threadRows measures the stub CPU per breakpoint hit with each thread
// count, in gdbtarget's sleepers mode.
func threadRows(res *results, k stubKind, prog string, cfg config) error {
	bp, hitsAddr, err := symbols(prog)
	if err != nil {
		return err
	}
	for _, n := range threadCounts {
		hits := max(20, cfg.hits*8/n)
		if err := threadRow(res, k, prog, n, hits, bp, hitsAddr); err != nil {
			return fmt.Errorf("%s: %w", threadMetric(n), err)
		}
	}
	return nil
}

func threadRow(res *results, k stubKind, prog string, threads, hits int, bp, hitsAddr uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := startSession(ctx, k, prog, []string{"sleepers", fmt.Sprint(threads), fmt.Sprint(hits)})
	if err != nil {
		return err
	}
	defer s.close()
	wall, cpu, err := s.measure(func() error { return s.breakpointHits(bp, hits) })
	if err != nil {
		return err
	}
	if err := s.checkHits(bp, hitsAddr, hits); err != nil {
		return err
	}
	m := threadMetric(threads)
	res.add(k.name, m, float64(hits)/wall.Seconds())
	res.add(k.name, m+" cpu", float64(cpu.Nanoseconds())/1e3/float64(hits))
	return nil
}
