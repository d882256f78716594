// Package selftest runs what procgdb --selftest checks: each package of
// procgdb offers checks of its own code and of what this machine lets it
// do (rsp.SelfChecks, regs.SelfChecks, target.SelfChecks), and Run runs
// them and reports.
package selftest

import (
	"fmt"
	"io"
)

// Check is one self-check.
type Check struct {
	Name string
	// Run does the check and returns an error when it fails; note, when
	// not empty, says what it found.
	Run func() (note string, err error)
}

// Run runs the checks in order, writes a line for each and a summary to
// w, and returns how many passed.
func Run(w io.Writer, checks []Check) (passed int) {
	for _, c := range checks {
		note, err := c.Run()
		switch {
		case err != nil:
			fmt.Fprintf(w, "FAIL %s: %v\n", c.Name, err)
			continue
		case note != "":
			fmt.Fprintf(w, "ok   %s: %s\n", c.Name, note)
		default:
			fmt.Fprintf(w, "ok   %s\n", c.Name)
		}
		passed++
	}
	fmt.Fprintf(w, "%d of %d checks passed\n", passed, len(checks))
	return passed
}
