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
	// gdb's 64bit-avx512.xml, in its order.
	for i := 16; i < 32; i++ {
		names = append(names, fmt.Sprintf("xmm%d", i))
	}
	for i := 16; i < 32; i++ {
		names = append(names, fmt.Sprintf("ymm%dh", i))
	}
	for i := range 8 {
		names = append(names, fmt.Sprintf("k%d", i))
	}
	for i := range 32 {
		names = append(names, fmt.Sprintf("zmm%dh", i))
	}
	names = append(names, "pkru")
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
		case n < firstAVX512:
			return featureAVX
		case n < firstPKRU:
			return featureAVX512
		}
		return featurePKeys
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
		dwarf[fmt.Sprintf("xmm%d", 16+i)] = 67 + i
	}
	for i := range 8 {
		dwarf[fmt.Sprintf("k%d", i)] = 118 + i
	}
	for i := range 8 {
		dwarf[fmt.Sprintf("st%d", i)] = 33 + i
	}
	generic := map[string]string{
		"rip": "pc", "rsp": "sp", "rbp": "fp", "eflags": "flags",
		"rdi": "arg1", "rsi": "arg2", "rdx": "arg3", "rcx": "arg4", "r8": "arg5", "r9": "arg6",
	}

	l := mustLayout(t, amxCPU())
	if l.NumRegs() != numRegs {
		t.Fatalf("the AMX layout has %d registers, want all %d", l.NumRegs(), numRegs)
	}
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
		if r.Type == "" || r.Bits%8 != 0 || r.Size() > 32 {
			t.Errorf("%s: type %q, %d bits", r.Name, r.Type, r.Bits)
		}
	}
	// 560 bytes through gs_base, 256 of AVX, then xmm16-31 and
	// ymm16h-31h, k0-7, zmm0h-31h and pkru.
	if want := 560 + 16*16 + 32*16 + 8*8 + 32*32 + 4; off != want {
		t.Errorf("g packet with every group is %d bytes, want %d", off, want)
	}
	if info, _ := l.Info(firstAVX512); info.Offset != 816 {
		t.Errorf("xmm16 at g offset %d, want 816 (after ymm15h)", info.Offset)
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
	xsave := map[int]string{} // byte -> register, over the legacy region and each component
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
		size := map[kind]int{kST: stSize, kX87Word: 2, kX87Dword: 4, kFTW: 1, kFOP: 2, kXMM: xmmSize, kMXCSR: 4}[r.kind]
		base := 0
		if r.kind.extended() {
			size = r.bits / 8
			c := r.kind.component()
			base = c << 16 // a separate space for each component
			if r.off+size > extendedSizes[c] {
				t.Errorf("%s: outside component %d", r.name, c)
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
	// The registers cover their components whole, but for PKRU's
	// reserved half.
	for c, size := range extendedSizes {
		covered := 0
		for i := range size {
			if _, ok := xsave[c<<16+i]; ok {
				covered++
			}
		}
		if c == compPKRU {
			size = 4
		}
		if covered != size {
			t.Errorf("component %d: registers cover %d of its %d bytes", c, covered, size)
		}
	}
	for _, n := range []int{-1, numRegs, 1000} {
		if NeedsXSave(n) {
			t.Errorf("NeedsXSave(%d) = true", n)
		}
	}
}

func TestInfoBounds(t *testing.T) {
	for name, l := range map[string]*Layout{"fxsave": FXSaveLayout(), "avx512": mustLayout(t, avx512CPU()), "pku": mustLayout(t, pkuCPU()), "nil": nil} {
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
		{firstXMM16, "vector", "vector-uint8"},
		{firstYMM16H, "vector", "vector-uint8"},
		{firstAVX512 + 32, "uint", "hex"},
		{firstZMMH, "vector", "vector-uint8"},
	}
	for _, tt := range tests {
		r, _ := l.Info(tt.n)
		if r.LLDBEncoding() != tt.encoding || r.LLDBFormat() != tt.format {
			t.Errorf("%s: %s/%s, want %s/%s", r.Name, r.LLDBEncoding(), r.LLDBFormat(), tt.encoding, tt.format)
		}
	}
}
