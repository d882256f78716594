package regs

import (
	"strings"
	"testing"
)

func TestLLDBRegisterInfo(t *testing.T) {
	avx := mustLayout(t, avx512CPU())
	info := func(l *Layout, n int) string {
		t.Helper()
		s, ok := l.LLDBRegisterInfo(n)
		if !ok {
			t.Fatalf("register %d: none", n)
		}
		return s
	}
	fields := func(s string) map[string]string {
		m := map[string]string{}
		for f := range strings.SplitSeq(strings.TrimSuffix(s, ";"), ";") {
			k, v, _ := strings.Cut(f, ":")
			m[k] = v
		}
		return m
	}
	// Every register of the layout, at its g-packet offset.
	for n := range avx.NumRegs() {
		ri, _ := avx.Info(n)
		f := fields(info(avx, n))
		if f["name"] != ri.Name || f["offset"] != itoa(ri.Offset) || f["bitsize"] != itoa(ri.Bits) {
			t.Errorf("register %d: %v, want %+v", n, f, ri)
		}
	}
	f := fields(info(avx, RSP))
	if f["generic"] != "sp" || f["alt-name"] != "sp" || f["dwarf"] != "7" || f["ehframe"] != "7" {
		t.Errorf("rsp: %v", f)
	}
	// The views of rax, then ymm0 over xmm0 and ymm0h.
	n := avx.NumRegs()
	if f := fields(info(avx, n)); f["name"] != "eax" || f["container-regs"] != "0" || f["offset"] != "0" || f["bitsize"] != "32" {
		t.Errorf("eax: %v", f)
	}
	if f := fields(info(avx, n+3)); f["name"] != "ah" || f["offset"] != "1" || f["invalidate-regs"] != "0,4c,4d,4e" {
		t.Errorf("ah: %v", f)
	}
	if f := fields(info(avx, 0)); f["invalidate-regs"] != "4c,4d,4e,4f" {
		t.Errorf("rax: %v", f)
	}
	last := n + 16*3 + 4
	if f := fields(info(avx, last)); f["name"] != "ymm0" || f["container-regs"] != "28,3c" || f["bitsize"] != "256" || f["encoding"] != "vector" {
		t.Errorf("ymm0: %v", f)
	}
	if f := fields(info(avx, last+15)); f["name"] != "ymm15" || f["container-regs"] != "37,4b" {
		t.Errorf("ymm15: %v", f)
	}
	if _, ok := avx.LLDBRegisterInfo(last + 16); ok {
		t.Error("a register after ymm15")
	}
	// Without AVX the list ends with the views.
	fx := FXSaveLayout()
	if _, ok := fx.LLDBRegisterInfo(fx.NumRegs() + 16*3 + 4); ok {
		t.Error("ymm registers without AVX")
	}
	if _, ok := fx.LLDBRegisterInfo(-1); ok {
		t.Error("register -1")
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
