package regs

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTableShape checks the table against facts stated independently of
// it: gdb's names and numbering for amd64 GNU/Linux, the feature of each
// register, and the psABI's DWARF numbers.
func TestTableShape(t *testing.T) {
	var names []string
	names = append(names, "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp")
	for i := 8; i < 16; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs")
	for i := range 8 {
		names = append(names, fmt.Sprintf("st%d", i))
	}
	names = append(names, "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")
	for i := range 16 {
		names = append(names, fmt.Sprintf("xmm%d", i))
	}
	names = append(names, "mxcsr", "orig_rax", "fs_base", "gs_base")
	for i := range 16 {
		names = append(names, fmt.Sprintf("ymm%dh", i))
	}
	if len(names) != numRegs {
		t.Fatalf("expected %d names, table has %d registers", len(names), numRegs)
	}

	feature := func(n int) string {
		switch {
		case n < 40:
			return featureCore
		case n < 57:
			return featureSSE
		case n == 57:
			return featureLinux
		case n < firstAVX:
			return featureSegments
		}
		return featureAVX
	}
	// x86-64 psABI, "DWARF Register Number Mapping".
	dwarf := map[string]int{
		"rax": 0, "rdx": 1, "rcx": 2, "rbx": 3, "rsi": 4, "rdi": 5, "rbp": 6, "rsp": 7,
		"rip": 16, "eflags": 49, "es": 50, "cs": 51, "ss": 52, "ds": 53, "fs": 54, "gs": 55,
		"fs_base": 58, "gs_base": 59, "mxcsr": 64, "fctrl": 65, "fstat": 66,
	}
	for i := 8; i < 16; i++ {
		dwarf[fmt.Sprintf("r%d", i)] = i
	}
	for i := range 16 {
		dwarf[fmt.Sprintf("xmm%d", i)] = 17 + i
	}
	for i := range 8 {
		dwarf[fmt.Sprintf("st%d", i)] = 33 + i
	}
	generic := map[string]string{
		"rip": "pc", "rsp": "sp", "rbp": "fp", "eflags": "flags",
		"rdi": "arg1", "rsi": "arg2", "rdx": "arg3", "rcx": "arg4", "r8": "arg5", "r9": "arg6",
	}

	l := mustLayout(t, avx512CPU())
	off := 0
	for n := range numRegs {
		r, ok := l.Info(n)
		if !ok {
			t.Fatalf("Info(%d) missing", n)
		}
		if r.Name != names[n] || r.Num != n || r.Offset != off || r.Feature != feature(n) {
			t.Errorf("register %d = %+v; want %s at g offset %d in %s", n, r, names[n], off, feature(n))
		}
		off += r.Size()
		wantDWARF, ok := dwarf[r.Name]
		if !ok {
			wantDWARF = -1
		}
		if r.DWARF != wantDWARF || r.EHFrame != wantDWARF {
			t.Errorf("%s: DWARF %d, EH frame %d; want %d", r.Name, r.DWARF, r.EHFrame, wantDWARF)
		}
		if r.Generic != generic[r.Name] {
			t.Errorf("%s: generic %q, want %q", r.Name, r.Generic, generic[r.Name])
		}
		if r.Type == "" || r.Bits%8 != 0 || r.Size() > 16 {
			t.Errorf("%s: type %q, %d bits", r.Name, r.Type, r.Bits)
		}
	}
	if off != 816 {
		t.Errorf("g packet with AVX is %d bytes, want 816", off)
	}
	if names[RBP] != "rbp" || names[RSP] != "rsp" || names[RIP] != "rip" {
		t.Error("RBP, RSP or RIP is misnumbered")
	}
}

// TestTableStorage checks that every register has a place to live, and
// that no two registers share one.
func TestTableStorage(t *testing.T) {
	var regs unix.PtraceRegs
	gprs := map[*uint64]string{}
	xsave := map[int]string{} // byte -> register, over the legacy region and AVX component
	for n := range numRegs {
		r := &amd64Regs[n]
		isGPR := r.kind == kGPR || r.kind == kGPR32
		if isGPR != (r.gpr != nil) {
			t.Errorf("%s: kind %d with GPR field %v", r.name, r.kind, r.gpr != nil)
			continue
		}
		if isGPR != !NeedsXSave(n) {
			t.Errorf("%s: NeedsXSave = %v", r.name, NeedsXSave(n))
		}
		if isGPR {
			if want := map[kind]int{kGPR: 64, kGPR32: 32}[r.kind]; r.bits != want {
				t.Errorf("%s: %d bits for kind %d", r.name, r.bits, r.kind)
			}
			p := r.gpr(&regs)
			if other, dup := gprs[p]; dup {
				t.Errorf("%s and %s share a GPR field", r.name, other)
			}
			gprs[p] = r.name
			continue
		}
		size := map[kind]int{kST: stSize, kX87Word: 2, kX87Dword: 4, kFTW: 1, kFOP: 2, kXMM: xmmSize, kMXCSR: 4, kYMMH: xmmSize}[r.kind]
		base := 0
		if r.kind == kYMMH {
			base = 1 << 16 // a separate space for the AVX component
			if r.off+size > avxSize {
				t.Errorf("%s: outside the AVX component", r.name)
			}
		} else if r.off+size > fxSize {
			t.Errorf("%s: outside the legacy region", r.name)
		}
		for i := range size {
			if other, dup := xsave[base+r.off+i]; dup {
				t.Errorf("%s and %s overlap", r.name, other)
			}
			xsave[base+r.off+i] = r.name
		}
	}
	if len(gprs) != 27 {
		t.Errorf("%d of the 27 PtraceRegs fields are registers", len(gprs))
	}
	for _, n := range []int{-1, numRegs, 1000} {
		if NeedsXSave(n) {
			t.Errorf("NeedsXSave(%d) = true", n)
		}
	}
}

func TestInfoBounds(t *testing.T) {
	for name, l := range map[string]*Layout{"fxsave": FXSaveLayout(), "avx": mustLayout(t, avx512CPU()), "nil": nil} {
		for _, n := range []int{-1, l.NumRegs(), numRegs} {
			if _, ok := l.Info(n); ok {
				t.Errorf("%s: Info(%d) exists", name, n)
			}
		}
		if _, ok := l.Info(l.NumRegs() - 1); !ok {
			t.Errorf("%s: last register missing", name)
		}
	}
}

func TestLLDBEncoding(t *testing.T) {
	l := mustLayout(t, avx512CPU())
	tests := []struct {
		n                int
		encoding, format string
	}{
		{0, "uint", "hex"},
		{RIP, "uint", "hex"},
		{17, "uint", "hex"},
		{24, "ieee754", "float"},
		{32, "uint", "hex"},
		{40, "vector", "vector-uint8"},
		{56, "uint", "hex"},
		{60, "vector", "vector-uint8"},
	}
	for _, tt := range tests {
		r, _ := l.Info(tt.n)
		if r.LLDBEncoding() != tt.encoding || r.LLDBFormat() != tt.format {
			t.Errorf("%s: %s/%s, want %s/%s", r.Name, r.LLDBEncoding(), r.LLDBFormat(), tt.encoding, tt.format)
		}
	}
}
