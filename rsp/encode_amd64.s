//go:build amd64 && !purego

#include "textflag.h"

// func escapeMasks(p []byte, masks []uint64) (sum byte)
TEXT ·escapeMasks(SB), NOSPLIT, $0-49
	MOVQ p_base+0(FP), SI
	MOVQ masks_base+24(FP), DI
	MOVQ masks_len+32(FP), CX

	// X8..X11: sixteen copies of '$', '#', '}' and '*'; X12 the sums of
	// the bytes in two 64-bit lanes; X13 zero.
	MOVQ $0x2424242424242424, AX
	MOVQ AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ $0x2323232323232323, AX
	MOVQ AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ $0x7d7d7d7d7d7d7d7d, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10
	MOVQ $0x2a2a2a2a2a2a2a2a, AX
	MOVQ AX, X11
	PUNPCKLQDQ X11, X11
	PXOR X12, X12
	PXOR X13, X13

	TESTQ CX, CX
	JZ done

	// Each 16 bytes: add them up (PSADBW against zero sums each half),
	// compare them with the four bytes, OR the results, and take the top
	// bit of each byte: 16 bits of the block's mask.
#define MASK16(off, reg) \
	MOVOU off(SI), X0 \
	MOVO X0, X1 \
	MOVO X0, X2 \
	MOVO X0, X3 \
	MOVO X0, X4 \
	PSADBW X13, X4 \
	PADDQ X4, X12 \
	PCMPEQB X8, X0 \
	PCMPEQB X9, X1 \
	PCMPEQB X10, X2 \
	PCMPEQB X11, X3 \
	POR X1, X0 \
	POR X3, X2 \
	POR X2, X0 \
	PMOVMSKB X0, reg

block:
	MASK16(0, AX)
	MASK16(16, BX)
	MASK16(32, DX)
	MASK16(48, R8)
	SHLQ $16, BX
	ORQ BX, AX
	SHLQ $32, DX
	ORQ DX, AX
	SHLQ $48, R8
	ORQ R8, AX
	MOVQ AX, (DI)

	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNZ block

done:
	MOVQ X12, AX
	PSRLDQ $8, X12
	MOVQ X12, BX
	ADDQ BX, AX
	MOVB AX, sum+48(FP)
	RET
