/*
 * basic.c: the single-threaded program most end-to-end tests debug.
 *
 * Lines the tests refer to carry a "LINE:name" marker; the tests look the
 * line numbers up by marker, so lines may move but markers must stay unique.
 * The program writes its report to the file named by argv[1] (stdout when
 * absent), so the tests can check it whatever transport the stub uses.
 */
#include <stdio.h>

int counter = 5;
unsigned char pattern[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
volatile int watched;

/* ymm0 holds these eight 32-bit words when vec_loaded is called. */
static const unsigned int vecsrc[8] = {
	0x11111111, 0x22222222, 0x33333333, 0x44444444,
	0x55555555, 0x66666666, 0x77777777, 0x88888888,
};

/* vec_loaded does nothing: a breakpoint on it sees ymm0 as main loaded it. */
__attribute__((noinline)) static void vec_loaded(void)
{
}

__attribute__((noinline)) static int add(int a, int b)
{
	int sum = a + b; /* LINE:add-body */
	return sum;      /* LINE:add-return */
}

int main(int argc, char **argv)
{
	int local = 42; /* LINE:main-first */
	watched = 1;    /* LINE:watch-set */
	watched = 2;

	__asm__ volatile("vmovdqu %0, %%ymm0" : : "m"(vecsrc) : "xmm0");
	vec_loaded();

	puts("basic: hello"); /* LINE:puts-call */
	int sum = add(local, counter); /* LINE:call-add */
	FILE *out = stdout;        /* LINE:after-add */
	if (argc > 1 && (out = fopen(argv[1], "w")) == NULL)
		return 2;
	fprintf(out, "sum=%d counter=%d local=%d\n", sum, counter, local);
	fclose(out);
	return 7;
}
