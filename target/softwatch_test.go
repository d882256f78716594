package target

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestStepWrote(t *testing.T) {
	const pc = 0x1000
	g := unix.PtraceRegs{Rax: 0x5000, Rdi: 0x6000, Rsp: 0x7ff8, Fs_base: 0x9000}
	tests := []struct {
		name string
		code []byte
		addr uint64
		n    int
		want writeClaim
	}{
		{"mov [rax], rbx: the watched word", []byte{0x48, 0x89, 0x18}, 0x5000, 8, wrote},
		{"mov [rax], rbx: its last byte", []byte{0x48, 0x89, 0x18}, 0x5007, 4, wrote},
		{"mov [rax], rbx: elsewhere", []byte{0x48, 0x89, 0x18}, 0x5008, 4, didNotWrite},
		{"mov dword [rax+rdi*2+4], 1", []byte{0xc7, 0x44, 0x78, 0x04, 0x01, 0, 0, 0}, 0x5000 + 0xc000 + 4, 4, wrote},
		{"mov [rip+0x10], eax", []byte{0x89, 0x05, 0x10, 0, 0, 0}, pc + 6 + 0x10, 4, wrote},
		{"mov fs:[0x10], rax", []byte{0x64, 0x48, 0x89, 0x04, 0x25, 0x10, 0, 0, 0}, 0x9010, 8, wrote},
		{"add dword [rax], 1 (a read-modify-write)", []byte{0x83, 0x00, 0x01}, 0x5000, 4, wrote},
		{"mov rbx, [rax]: a read", []byte{0x48, 0x8b, 0x18}, 0x5000, 8, didNotWrite},
		{"movsd [rdi], xmm0", []byte{0xf2, 0x0f, 0x11, 0x07}, 0x6004, 4, wrote},
		{"push rax: the slot below the old stack pointer", []byte{0x50}, 0x7ff8, 8, wrote},
		{"push rax: above it", []byte{0x50}, 0x8000, 8, didNotWrite},
		{"call rel32", []byte{0xe8, 0, 0, 0, 0}, 0x7ffc, 1, wrote},
		{"rep movsb", []byte{0xf3, 0xa4}, 0x5000, 4, mayHaveWritten},
		{"stosq", []byte{0x48, 0xab}, 0x5000, 4, mayHaveWritten},
		{"syscall", []byte{0x0f, 0x05}, 0x5000, 4, mayHaveWritten},
		{"nop", []byte{0x90}, 0x5000, 4, didNotWrite},
		{"cut short", []byte{0x48, 0x89}, 0x5000, 4, mayHaveWritten},
		{"not an instruction", []byte{0xd6}, 0x5000, 4, mayHaveWritten},
		{"nothing read", nil, 0x5000, 4, mayHaveWritten},
	}
	for _, tt := range tests {
		if got := stepWrote(tt.code, pc, &g, tt.addr, tt.n); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}
