package rsp

import (
	"strings"
	"testing"
)

func TestParseDisabled(t *testing.T) {
	tests := []struct {
		in   string
		want Disabled
		err  string
	}{
		{"vCont", Disabled{VCont: true}, ""},
		{"T,Tthread", Disabled{TStop: true, TThread: true}, ""},
		{"qC,qfThreadInfo", Disabled{QC: true, QfThreadInfo: true}, ""},
		{"threads", Disabled{VCont: true, TThread: true, QC: true, QfThreadInfo: true}, ""},
		{"vCont,T,Tthread,qC,qfThreadInfo,threads", Disabled{true, true, true, true, true}, ""},
		{"", Disabled{}, `cannot disable ""`},
		{"vcont", Disabled{}, `cannot disable "vcont"`},
		{"T,", Disabled{}, `cannot disable ""`},
	}
	for _, tt := range tests {
		got, err := ParseDisabled(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDisabled(%q) = %v, want an error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDisabled(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// Disabled packets get the empty reply and are not offered; stop replies
// lose their thread, or become S replies.
func TestDisabledPackets(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{Disable: Disabled{VCont: true, QC: true, QfThreadInfo: true, TThread: true}})
	if r := h.exchange(gdbFeatures); strings.Contains(r, "vContSupported") {
		t.Errorf("qSupported offers vCont: %q", r)
	}
	for _, p := range []string{"vCont?", "vCont;c", "qC", "qfThreadInfo", "qsThreadInfo"} {
		h.expect(p, "")
	}
	h.expect("?", "T05"+fakeRegs("6410400000000000")+"core:0;")

	h = startSession(t, newFakeTarget(), Config{Disable: Disabled{TStop: true}})
	h.negotiate(gdbFeatures)
	h.expect("?", "S05")
	h.expect("qC", "QCp64.64")
}
