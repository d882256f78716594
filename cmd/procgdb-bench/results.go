package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// results collects each run's figure per stub and metric.
type results struct {
	vals map[string]map[string][]float64 // stub -> metric -> one value per run
	na   map[string]map[string]bool
}

func newResults() *results {
	return &results{vals: map[string]map[string][]float64{}, na: map[string]map[string]bool{}}
}

func (r *results) add(stub, metric string, v float64) {
	if r.vals[stub] == nil {
		r.vals[stub] = map[string][]float64{}
	}
	r.vals[stub][metric] = append(r.vals[stub][metric], v)
}

func (r *results) markNA(stub, metric string) {
	if r.na[stub] == nil {
		r.na[stub] = map[string]bool{}
	}
	r.na[stub][metric] = true
	r.na[stub][metric+" cpu"] = true
}

// median returns the median of stub's metric, and false if there is none.
func (r *results) median(stub, metric string) (float64, bool) {
	v := slices.Clone(r.vals[stub][metric])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// row is one line of the table.
type row struct {
	label, metric, unit string
	higher              bool // higher is better
}

var rows = []row{
	{"m read 64 MiB", "m read", "MB/s", true},
	{"  stub CPU", "m read cpu", "µs/MB", false},
	{"x read 64 MiB", "x read", "MB/s", true},
	{"  stub CPU", "x read cpu", "µs/MB", false},
	{"10,000 scattered 8-byte m", "scattered 8-byte m", "reads/s", true},
	{"  stub CPU", "scattered 8-byte m cpu", "µs/read", false},
	{"M write 64 MiB", "M write", "MB/s", true},
	{"  stub CPU", "M write cpu", "µs/MB", false},
	{"X write 64 MiB", "X write", "MB/s", true},
	{"  stub CPU", "X write cpu", "µs/MB", false},
	{"breakpoint hit (z0,vCont;s,Z0,vCont;c)", "breakpoint hit", "hits/s", true},
	{"  stub CPU", "breakpoint hit cpu", "µs/hit", false},
	{"single step (vCont;s)", "single step", "steps/s", true},
	{"  stub CPU", "single step cpu", "µs/step", false},
	{"g", "g", "packets/s", true},
	{"  stub CPU", "g cpu", "µs/g", false},
	{"p (rip)", "p", "packets/s", true},
	{"  stub CPU", "p cpu", "µs/p", false},
	{"peak RSS (VmHWM)", "peak RSS", "MiB", false},
	{"breakpoint hit, 8 sleeping threads", "breakpoint hit, 8 threads", "hits/s", true},
	{"  stub CPU", "breakpoint hit, 8 threads cpu", "µs/hit", false},
	{"breakpoint hit, 64 sleeping threads", "breakpoint hit, 64 threads", "hits/s", true},
	{"  stub CPU", "breakpoint hit, 64 threads cpu", "µs/hit", false},
	{"breakpoint hit, 512 sleeping threads", "breakpoint hit, 512 threads", "hits/s", true},
	{"  stub CPU", "breakpoint hit, 512 threads cpu", "µs/hit", false},
	{"non-stop: stop 1 of 65 running threads", nonStopMetric, "stops/s", true},
	{"  stub CPU", nonStopMetric + " cpu", "µs/stop", false},
	{"gdb dump binary memory 64 MiB", "gdb dump binary memory", "MB/s", true},
	{"gdb stepi", "gdb stepi", "steps/s", true},
	{"gdb condition (false), evaluated by gdb", "gdb condition, evaluated by gdb", "hits/s", true},
	{"gdb condition (false), by the target", "gdb condition, evaluated by the target", "hits/s", true},
	{"gdb condition (false), 64 busy threads", "gdb condition, 64 busy threads", "hits/s", true},
	{"gdb condition (false), by the target, 64 busy", "gdb condition, evaluated by the target, 64 busy threads", "hits/s", true},
	{"  the same, built with -O1 (a pad)", "gdb condition, evaluated by the target, 64 busy threads, -O1", "hits/s", true},
	{"gdb dprintf, agent style", "gdb dprintf, agent style", "prints/s", true},
	{"gdb next, line looping 5,000 times", smallNext, "iter/s", true},
	{"gdb next, line looping 1,000,000 times", bigNext, "iter/s", true},
	{"gdb non-stop: 4 KiB reads, 64 threads run", nonStopReads, "reads/s", true},
}

// print writes the table of medians, with procgdb's ratio to the best
// other stub (above 1 is better for procgdb in every row).
func (r *results) print(w io.Writer, stubs []stubKind, cfg config) {
	names := []string{}
	for _, s := range stubs {
		names = append(names, s.name)
	}
	fmt.Fprintf(w, "Medians of %d run(s); memory region %d MiB.\n\n", cfg.runs, cfg.mib)
	fmt.Fprintf(w, "| %-40s | %-9s |", "operation", "unit")
	for _, n := range names {
		fmt.Fprintf(w, " %12s |", n)
	}
	fmt.Fprintf(w, " %14s |\n", "procgdb vs best")
	fmt.Fprintf(w, "|%s|%s|", strings.Repeat("-", 42), strings.Repeat("-", 11))
	for range names {
		fmt.Fprintf(w, "%s:|", strings.Repeat("-", 13))
	}
	fmt.Fprintf(w, "%s:|\n", strings.Repeat("-", 16))
	for _, rw := range rows {
		label := rw.label
		if rw.metric == "m read" || rw.metric == "x read" || rw.metric == "M write" || rw.metric == "X write" || rw.metric == "gdb dump binary memory" {
			label = strings.Replace(label, "64 MiB", fmt.Sprintf("%d MiB", cfg.mib), 1)
		}
		fmt.Fprintf(w, "| %-40s | %-9s |", label, rw.unit)
		best, haveBest := 0.0, false
		for _, n := range names {
			v, ok := r.median(n, rw.metric)
			switch {
			case ok:
				fmt.Fprintf(w, " %12s |", format(v))
				if n != "procgdb" && (!haveBest || rw.higher && v > best || !rw.higher && v < best) {
					best, haveBest = v, true
				}
			case r.na[n][rw.metric]:
				fmt.Fprintf(w, " %12s |", "n/a")
			default:
				fmt.Fprintf(w, " %12s |", "-")
			}
		}
		ratio := "-"
		if v, ok := r.median("procgdb", rw.metric); ok && haveBest && best > 0 && v > 0 {
			x := v / best
			if !rw.higher {
				x = best / v
			}
			ratio = fmt.Sprintf("%.2f×", x)
		}
		fmt.Fprintf(w, " %14s |\n", ratio)
	}
	fmt.Fprintln(w)
	for _, l := range []struct{ label, metric, unit string }{
		{"process_vm_readv of the region, 1 MiB per call", "process_vm_readv 64 MiB", "MB/s"},
		{"loopback TCP, 1 MiB writes", "loopback TCP", "MB/s"},
		{"tracer CPU per single step (ptrace, wait4, regs)", "single step", "µs"},
		{"the 5,000-iteration line without a debugger", smallNext, "iter/s"},
		{"the 1,000,000-iteration line without a debugger", bigNext, "iter/s"},
	} {
		if v, ok := r.median("limit", l.metric); ok {
			fmt.Fprintf(w, "limit: %-48s %10s %s\n", l.label, format(v), l.unit)
		}
	}
	fmt.Fprintln(w, "\n\"procgdb vs best\": procgdb's figure over the best other stub's, inverted for")
	fmt.Fprintln(w, "CPU time and RSS, so above 1× means procgdb is better. n/a: the stub lacks the")
	fmt.Fprintln(w, "packet, or (the million-iteration next) would take over 30 s with it.")
}

// format prints v with three significant digits or as an integer.
func format(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
