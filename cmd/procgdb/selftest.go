package main

import (
	"io"
	"slices"

	"procgdb/internal/selftest"
	"procgdb/regs"
	"procgdb/rsp"
	"procgdb/target"
)

// runSelftest runs procgdb's own checks (--selftest) and returns the exit
// status: 0 when every one passed.
func runSelftest(w io.Writer) int {
	checks := slices.Concat(rsp.SelfChecks(), regs.SelfChecks(), target.SelfChecks())
	if selftest.Run(w, checks) != len(checks) {
		return 1
	}
	return 0
}
