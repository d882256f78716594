package regs

import (
	"strconv"
	"strings"
	"testing"
)

func TestLLDBRegisterInfo(t *testing.T) {
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
	hex := func(n int) string { return strconv.FormatInt(int64(n), 16) }
	for name, l := range testLayouts(t) {
		t.Run(name, func(t *testing.T) {
			// Every register of the layout, at its g-packet offset.
			for n := range l.NumRegs() {
				ri, _ := l.Info(n)
				f := fields(info(l, n))
				if f["name"] != ri.Name || f["offset"] != itoa(ri.Offset) || f["bitsize"] != itoa(ri.Bits) {
					t.Errorf("register %d: %v, want %+v", n, f, ri)
				}
			}
			f := fields(info(l, RSP))
			if f["generic"] != "sp" || f["alt-name"] != "sp" || f["dwarf"] != "7" || f["ehframe"] != "7" {
				t.Errorf("rsp: %v", f)
			}
			// The views of rax, then the composites.
			n := l.NumRegs()
			if f := fields(info(l, n)); f["name"] != "eax" || f["container-regs"] != "0" || f["offset"] != "0" || f["bitsize"] != "32" {
				t.Errorf("eax: %v", f)
			}
			views := strings.Join([]string{hex(n), hex(n + 1), hex(n + 2)}, ",")
			if f := fields(info(l, n+3)); f["name"] != "ah" || f["offset"] != "1" || f["invalidate-regs"] != "0,"+views {
				t.Errorf("ah: %v", f)
			}
			if f := fields(info(l, 0)); f["invalidate-regs"] != views+","+hex(n+3) {
				t.Errorf("rax: %v", f)
			}
			next := n + 16*3 + 4
			g := l.gOffsetOf(n)
			if l.HasAVX {
				if f := fields(info(l, next)); f["name"] != "ymm0" || f["container-regs"] != "28,3c" || f["bitsize"] != "256" || f["encoding"] != "vector" || f["offset"] != itoa(g) {
					t.Errorf("ymm0: %v", f)
				}
				if f := fields(info(l, next+15)); f["name"] != "ymm15" || f["container-regs"] != "37,4b" || f["offset"] != itoa(g+15*32) {
					t.Errorf("ymm15: %v", f)
				}
				next += 16
			}
			if l.HasAVX512 {
				if f := fields(info(l, next)); f["name"] != "ymm16" || f["container-regs"] != "4c,5c" || f["offset"] != itoa(g+16*32) {
					t.Errorf("ymm16: %v", f)
				}
				if f := fields(info(l, next+16)); f["name"] != "zmm0" || f["container-regs"] != "28,3c,74" || f["bitsize"] != "512" || f["offset"] != itoa(g+32*32) || f["set"] != "Advanced Vector Extensions 512" {
					t.Errorf("zmm0: %v", f)
				}
				if f := fields(info(l, next+16+31)); f["name"] != "zmm31" || f["container-regs"] != "5b,6b,93" || f["offset"] != itoa(g+32*32+31*64) {
					t.Errorf("zmm31: %v", f)
				}
				next += 16 + 32
			}
			if _, ok := l.LLDBRegisterInfo(next); ok {
				t.Errorf("a register after the last composite, %d", next)
			}
			if _, ok := l.LLDBRegisterInfo(-1); ok {
				t.Error("register -1")
			}
		})
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
