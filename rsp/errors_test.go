package rsp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

func TestErrorReply(t *testing.T) {
	tests := []struct {
		err  error
		code string
		text string
	}{
		{fmt.Errorf("m: length %q: %w", "zz", errHexDigit), "E01", `E.m: length "zz": invalid hex digit`},
		{errUnknownThread, "E02", "E.unknown thread"},
		{fmt.Errorf("read regs of 12: %w", unix.ESRCH), "E03", "E.read regs of 12: no such process"},
		{fmt.Errorf("read 0x0+8: %w", unix.EIO), "E05", "E.read 0x0+8: input/output error"},
		{fmt.Errorf("read 0x0+8: %w", unix.EFAULT), "E05", "E.read 0x0+8: bad address"},
		{fmt.Errorf("p 999: %w", regs.ErrUnknownRegister), "E02", "E.p 999: regs: unknown register"},
		{fmt.Errorf("process 7: %w", inferior.ErrNoProcess), "E02", "E.process 7: no such process"},
		{fmt.Errorf("thread 7.8: %w", inferior.ErrNoThread), "E02", "E.thread 7.8: no such thread"},
		{fmt.Errorf("resume: %w", inferior.ErrNothingToResume), "E02", "E.resume: no thread to resume"},
		{errors.New("disk on fire"), "E0f", "E.disk on fire"},
		{errors.New("a#b$c}d*e\nf\x7f"), "E0f", "E.a?b?c?d?e?f?"},
	}
	for _, tt := range tests {
		if got := string(appendError(nil, tt.err, false)); got != tt.code {
			t.Errorf("appendError(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := string(appendError(nil, tt.err, true)); got != tt.text {
			t.Errorf("appendError(%v, text) = %q, want %q", tt.err, got, tt.text)
		}
	}
	// A long message keeps its start (what failed) and its end (why).
	long := fmt.Errorf("launch /%s: %w", strings.Repeat("x", 1000), unix.ENAMETOOLONG)
	got := string(appendError(nil, long, true))
	if len(got) != 2+maxErrorText || !strings.HasPrefix(got, "E.launch /xxx") || !strings.HasSuffix(got, "xxx: file name too long") ||
		!strings.Contains(got, "x...x") {
		t.Errorf("long message gave %q (%d bytes), want %d bytes with its start, ... and its end", got, len(got), 2+maxErrorText)
	}
}
