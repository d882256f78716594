//go:build !amd64

package regs

import "errors"

// HostLayout fails on architectures other than amd64: the layout comes
// from the CPUID instruction, which only x86 has.
func HostLayout() (*Layout, error) {
	return nil, errors.New("regs: HostLayout needs an x86-64 host")
}
