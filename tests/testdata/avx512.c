/*
 * avx512.c: loads AVX-512 registers with known values and stops at the
 * label avx512_loaded, where the debugger looks at them and changes some;
 * then it reads them back from the processor and prints them.
 *
 * At avx512_loaded, zmm0 holds the 32-bit words 0x10 to 0x1f, zmm3 0x30 to
 * 0x3f, zmm16 0x160 to 0x16f, zmm31 0x310 to 0x31f, and k1 0xa5a5. The
 * program then prints "zmm3[5]=N zmm3[15]=N k1=0xN zmm16[0]=0xN
 * zmm31[15]=0xN" and exits 0. Without AVX-512 it prints "no avx512" and
 * exits 2.
 */
#include <stdio.h>

static unsigned int src0[16], src3[16], src16[16], src31[16];
static unsigned int out3[16], out16[16], out31[16];
static unsigned short k1in = 0xa5a5, k1out;

__attribute__((target("avx512f"), noinline)) static void load_and_stop(void)
{
	__asm__ volatile(
		"vmovdqu32 %[s0], %%zmm0\n\t"
		"vmovdqu32 %[s3], %%zmm3\n\t"
		"vmovdqu32 %[s16], %%zmm16\n\t"
		"vmovdqu32 %[s31], %%zmm31\n\t"
		"kmovw %[k], %%k1\n\t"
		".globl avx512_loaded\n\t"
		".type avx512_loaded, @function\n"
		"avx512_loaded:\n\t"
		"nop\n\t"
		"vmovdqu32 %%zmm3, %[o3]\n\t"
		"vmovdqu32 %%zmm16, %[o16]\n\t"
		"vmovdqu32 %%zmm31, %[o31]\n\t"
		"kmovw %%k1, %[ko]\n\t"
		: [o3] "=m"(out3), [o16] "=m"(out16), [o31] "=m"(out31), [ko] "=m"(k1out)
		: [s0] "m"(src0), [s3] "m"(src3), [s16] "m"(src16), [s31] "m"(src31), [k] "m"(k1in)
		: "xmm0", "xmm3", "xmm16", "xmm31", "k1", "memory");
}

int main(void)
{
	int i;

	if (!__builtin_cpu_supports("avx512f")) {
		puts("no avx512");
		return 2;
	}
	for (i = 0; i < 16; i++) {
		src0[i] = 0x10 + i;
		src3[i] = 0x30 + i;
		src16[i] = 0x160 + i;
		src31[i] = 0x310 + i;
	}
	load_and_stop();
	printf("zmm3[5]=%u zmm3[15]=%u k1=%#x zmm16[0]=%#x zmm31[15]=%#x\n",
	       out3[5], out3[15], k1out, out16[0], out31[15]);
	return 0;
}
