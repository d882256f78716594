package regs

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// fakeCPU answers CPUID from a table, so that layouts of other machines
// can be tested here.
type fakeCPU struct {
	leaves map[[2]uint32][4]uint32
	xcr0   uint64
	// xcr0Read records whether XGETBV was executed.
	xcr0Read bool
}

func (f *fakeCPU) cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32) {
	r := f.leaves[[2]uint32{leaf, subleaf}]
	return r[0], r[1], r[2], r[3]
}

func (f *fakeCPU) readXCR0() uint64 {
	f.xcr0Read = true
	return f.xcr0
}

func (f *fakeCPU) layout() (*Layout, error) { return layoutFromCPUID(f.cpuid, f.readXCR0) }

// newFakeCPU returns a CPU with XSAVE enabled, whose leaf 0xD subleaf 0
// reports size bytes for the features in xcr0 and subleaves comps (index
// -> {size, offset}).
func newFakeCPU(xcr0 uint64, size uint32, comps map[uint32][2]uint32) *fakeCPU {
	f := &fakeCPU{
		leaves: map[[2]uint32][4]uint32{
			{0, 0}:   {0x20, 0, 0, 0},
			{1, 0}:   {0, 0, osxsaveBit, 0},
			{0xd, 0}: {uint32(xcr0), size, size, uint32(xcr0 >> 32)},
		},
		xcr0: xcr0,
	}
	for i, c := range comps {
		f.leaves[[2]uint32{0xd, i}] = [4]uint32{c[0], c[1], 0, 0}
	}
	return f
}

// avx512CPU is this project's development VM: x87, SSE, AVX, AVX-512
// (opmask, ZMM_Hi256, Hi16_ZMM); 2432 bytes.
func avx512CPU() *fakeCPU {
	return newFakeCPU(0xe7, 2432, map[uint32][2]uint32{
		2: {256, 576}, 5: {64, 832}, 6: {512, 896}, 7: {1024, 1408},
	})
}

// amxCPU is a Sapphire Rapids class processor: AVX-512, PKRU and AMX tile
// state make an area of 11008 bytes, and the AVX-512 components sit where
// the retired MPX components (3, 4) left room.
func amxCPU() *fakeCPU {
	return newFakeCPU(0x602e7, 11008, map[uint32][2]uint32{
		2: {256, 576}, 5: {64, 1088}, 6: {512, 1152}, 7: {1024, 1664},
		9: {8, 2688}, 17: {64, 2752}, 18: {8192, 2816},
	})
}

// pkuCPU is an AMD Zen 3 class processor: protection keys without
// AVX-512, so that pkru follows ymm15h.
func pkuCPU() *fakeCPU {
	return newFakeCPU(0x207, 2440, map[uint32][2]uint32{
		2: {256, 576}, 9: {8, 2432},
	})
}

func mustLayout(t testing.TB, f *fakeCPU) *Layout {
	t.Helper()
	l, err := f.layout()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLayoutFromCPUID(t *testing.T) {
	tests := []struct {
		name                       string
		cpu                        *fakeCPU
		size                       int
		features                   uint64
		hasAVX, hasAVX512, hasPKRU bool
		comps                      []int
		numRegs                    int
	}{
		{"avx512", avx512CPU(), 2432, 0xe7, true, true, false, []int{0, 1, 2, 5, 6, 7}, 148},
		{"amx", amxCPU(), 11008, 0x602e7, true, true, true, []int{0, 1, 2, 5, 6, 7, 9, 17, 18}, 149},
		{"pku", pkuCPU(), 2440, 0x207, true, false, true, []int{0, 1, 2, 9}, 77},
		{"sse only", newFakeCPU(0x3, 576, nil), 576, 0x3, false, false, false, []int{0, 1}, 60},
		{
			// The processor supports AVX but the kernel left it off
			// (for example clearcpuid=avx): XCR0 decides.
			"avx supported, not enabled",
			func() *fakeCPU {
				f := newFakeCPU(0x7, 576, map[uint32][2]uint32{2: {256, 576}})
				f.xcr0 = 0x3
				return f
			}(),
			576, 0x3, false, false, false, []int{0, 1}, 60,
		},
		{
			// AVX-512 needs all three of its components.
			"opmask alone",
			newFakeCPU(0x27, 896, map[uint32][2]uint32{2: {256, 576}, 5: {64, 832}}),
			896, 0x27, true, false, false, []int{0, 1, 2, 5}, 76,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustLayout(t, tt.cpu)
			if l.Size != tt.size || l.Features != tt.features || l.HasAVX != tt.hasAVX ||
				l.HasAVX512 != tt.hasAVX512 || l.HasPKRU != tt.hasPKRU || l.FXSaveOnly {
				t.Errorf("layout = %+v", l)
			}
			var got []int
			for i := range 64 {
				if c, ok := l.Component(i); ok {
					got = append(got, i)
					if c.Index != i || c.Offset+c.Size > l.Size {
						t.Errorf("component %d = %+v", i, c)
					}
				}
			}
			if !slices.Equal(got, tt.comps) {
				t.Errorf("components %v, want %v", got, tt.comps)
			}
			if l.NumRegs() != tt.numRegs {
				t.Errorf("NumRegs = %d, want %d", l.NumRegs(), tt.numRegs)
			}
		})
	}
}

func TestLayoutFromCPUIDWithoutXSave(t *testing.T) {
	noLeafD := avx512CPU()
	noLeafD.leaves[[2]uint32{0, 0}] = [4]uint32{0xb, 0, 0, 0}
	noOSXSave := avx512CPU()
	noOSXSave.leaves[[2]uint32{1, 0}] = [4]uint32{}
	for name, f := range map[string]*fakeCPU{"no leaf 0xd": noLeafD, "no OSXSAVE": noOSXSave} {
		t.Run(name, func(t *testing.T) {
			l := mustLayout(t, f)
			if !l.FXSaveOnly || l.Size != 512 || l.HasAVX {
				t.Errorf("layout = %+v, want the FXSAVE layout", l)
			}
			if f.xcr0Read {
				t.Error("XGETBV executed without OSXSAVE; it would fault")
			}
		})
	}
}

func TestLayoutFromCPUIDErrors(t *testing.T) {
	tests := []struct {
		name string
		cpu  *fakeCPU
		want string
	}{
		{"no SSE in XCR0", newFakeCPU(0x1, 576, nil), "lacks x87 or SSE"},
		{"area too small", newFakeCPU(0x3, 512, nil), "less than 576"},
		{"component past the end", newFakeCPU(0x7, 576, map[uint32][2]uint32{2: {256, 576}}), "does not fit"},
		{"component inside the legacy region", newFakeCPU(0x7, 832, map[uint32][2]uint32{2: {256, 100}}), "does not fit"},
		{"empty component", newFakeCPU(0x7, 832, nil), "does not fit"},
		{"odd AVX size", newFakeCPU(0x7, 832, map[uint32][2]uint32{2: {128, 576}}), "AVX state is 128 bytes"},
		{"odd opmask size", newFakeCPU(0xe7, 2432, map[uint32][2]uint32{2: {256, 576}, 5: {32, 832}, 6: {512, 896}, 7: {1024, 1408}}), "opmask state is 32 bytes"},
		{"odd Hi16_ZMM size", newFakeCPU(0xe7, 2432, map[uint32][2]uint32{2: {256, 576}, 5: {64, 832}, 6: {512, 896}, 7: {512, 1408}}), "Hi16_ZMM state is 512 bytes"},
		{"odd PKRU size", newFakeCPU(0x207, 2440, map[uint32][2]uint32{2: {256, 576}, 9: {4, 2432}}), "PKRU state is 4 bytes"},
		{
			"supervisor component",
			func() *fakeCPU {
				f := newFakeCPU(0x107, 832, map[uint32][2]uint32{2: {256, 576}})
				f.leaves[[2]uint32{0xd, 8}] = [4]uint32{128, 0, 1, 0}
				return f
			}(),
			"supervisor",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.cpu.layout()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("layout = %+v, err = %v; want error containing %q", l, err, tt.want)
			}
		})
	}
}

// TestNewLayout builds the AMX machine's layout from its component
// placements, as another machine's CPUID would report them.
func TestNewLayout(t *testing.T) {
	want := mustLayout(t, amxCPU())
	comps := []Component{
		{Index: 18, Offset: 2816, Size: 8192}, {Index: 17, Offset: 2752, Size: 64},
		{Index: 9, Offset: 2688, Size: 8}, {Index: 7, Offset: 1664, Size: 1024},
		{Index: 6, Offset: 1152, Size: 512}, {Index: 5, Offset: 1088, Size: 64},
		{Index: 2, Offset: 576, Size: 256},
		{Index: 3, Offset: 832, Size: 64}, // MPX, which XCR0 does not enable: ignored
	}
	l, err := NewLayout(11008, 0x602e7, comps)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.TargetXML(), want.TargetXML()) || l.NumRegs() != want.NumRegs() {
		t.Errorf("NewLayout differs from the layout CPUID gives")
	}
	for i := range 64 {
		a, okA := l.Component(i)
		b, okB := want.Component(i)
		if a != b || okA != okB {
			t.Errorf("component %d = %+v, %v; want %+v, %v", i, a, okA, b, okB)
		}
	}
	// An enabled component missing from the list does not fit.
	if _, err := NewLayout(11008, 0x602e7, comps[1:]); err == nil || !strings.Contains(err.Error(), "component 18") {
		t.Errorf("missing component 18: %v", err)
	}
}

func TestFXSaveLayout(t *testing.T) {
	l := FXSaveLayout()
	if !l.FXSaveOnly || l.Size != 512 || l.HasAVX || l.HasAVX512 || l.HasPKRU || l.Features != 3 || l.NumRegs() != firstAVX {
		t.Errorf("FXSaveLayout = %+v", l)
	}
	if _, ok := l.Component(compAVX); ok {
		t.Error("FXSaveLayout has an AVX component")
	}
	if FXSaveLayout() == l {
		t.Error("FXSaveLayout returns a shared value")
	}
}

func TestHostLayout(t *testing.T) {
	l, err := HostLayout()
	if err != nil {
		t.Fatal(err)
	}
	avx, _ := l.Component(compAVX)
	t.Logf("host XSAVE area: %d bytes, XCR0 %#x, AVX at %d, AVX-512 %v, PKRU %v", l.Size, l.Features, avx.Offset, l.HasAVX512, l.HasPKRU)
	if l.FXSaveOnly {
		t.Skip("kernel runs without XSAVE")
	}
	// The area holds at least the legacy region and header, and less
	// than the 64 KiB the CPUID encoding could describe in practice.
	if l.Size < 576 || l.Size > 1<<16 || l.Features&3 != 3 {
		t.Errorf("implausible layout %+v", l)
	}
	if l.HasAVX && (avx.Offset < 576 || avx.Offset+256 > l.Size) {
		t.Errorf("AVX at %d in a %d-byte area", avx.Offset, l.Size)
	}
	end := 0
	for i := range 64 {
		if c, ok := l.Component(i); ok {
			end = max(end, c.Offset+c.Size)
		}
	}
	if end != l.Size {
		t.Errorf("components end at %d, area is %d bytes", end, l.Size)
	}
}
