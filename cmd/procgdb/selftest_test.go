package main

import (
	"strings"
	"testing"
)

// Every package's self-checks pass here (tests/ runs procgdb --selftest
// itself).
func TestRunSelftest(t *testing.T) {
	var out strings.Builder
	if code := runSelftest(&out); code != 0 {
		t.Error(out.String())
	}
}
