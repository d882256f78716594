package main

import (
	"log/slog"
	"sync"
	"time"

	"procgdb/target"
)

// debugRegs is what procgdb knows of the debug registers: whether its
// tracers use them, and why.
type debugRegs struct {
	use    bool
	reason string
}

// checkDebugRegisters starts the probe of the debug registers, unless
// --no-debug-registers turned them off, and returns a function that waits
// for its result. The probe runs while procgdb starts its program.
func checkDebugRegisters(o options, log *slog.Logger) func() debugRegs {
	if o.noDebugRegs {
		dr := debugRegs{false, "--no-debug-registers"}
		log.Debug("debug registers", "use", false, "reason", dr.reason)
		return func() debugRegs { return dr }
	}
	done := make(chan debugRegs, 1)
	go func() {
		start := time.Now()
		ok, reason := target.ProbeDebugRegisters()
		log.Debug("debug registers", "use", ok, "reason", reason, "probe", time.Since(start))
		done <- debugRegs{ok, reason}
	}()
	return sync.OnceValue(func() debugRegs { return <-done })
}
