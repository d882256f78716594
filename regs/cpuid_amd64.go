package regs

// The _amd64 suffix of this file and of cpuid_amd64.s is their build
// constraint: CPUID and XGETBV are x86 instructions. The rest of the
// package needs linux/amd64 as well, through unix.PtraceRegs.

// cpuid executes the CPUID instruction with EAX = leaf and ECX = subleaf.
// Implemented in cpuid_amd64.s.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv executes XGETBV with ECX = index and returns EDX:EAX. It faults
// unless CPUID.1:ECX.OSXSAVE is set. Implemented in cpuid_amd64.s.
func xgetbv(index uint32) (eax, edx uint32)

// HostLayout returns the XSAVE layout of this machine, read from CPUID
// leaf 0xD and XCR0. The kernel's NT_X86_XSTATE regset uses the same
// standard-format layout for the features it enabled. When the kernel has
// not enabled XSAVE, HostLayout returns FXSaveLayout.
func HostLayout() (*Layout, error) {
	return layoutFromCPUID(cpuid, func() uint64 {
		eax, edx := xgetbv(0) // XCR0
		return uint64(edx)<<32 | uint64(eax)
	})
}
