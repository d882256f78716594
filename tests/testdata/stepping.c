/*
 * stepping.c: lines for gdb's next and step, which a stub may range-step:
 * a line that loops N times (argv[1], 300 by default), a call, a
 * recursion and a longjmp out of a call. It prints what it computed, so
 * that a test sees that every line ran once, as without a debugger, and
 * how long the loop took (for procgdb-bench).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static jmp_buf env;
static volatile long sum;

__attribute__((noinline)) long twice(long v)
{
	return 2 * v; /* LINE:twice */
}

__attribute__((noinline)) long fact(long n)
{
	if (n <= 1) /* LINE:fact-base */
		return 1;
	return n * fact(n - 1); /* LINE:fact-rec */
}

__attribute__((noinline)) void jump(int v)
{
	longjmp(env, v); /* LINE:jump */
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a); /* LINE:start */
	for (long i = 0; i < n; i++) sum += i; /* LINE:loop */
	clock_gettime(CLOCK_MONOTONIC, &b); /* LINE:after-loop */
	long t = twice(sum); /* LINE:call */
	long f = fact(5); /* LINE:fact */
	int v = setjmp(env); /* LINE:setjmp */
	if (v == 0) /* LINE:if-jump */
		jump(7); /* LINE:do-jump */
	printf("sum=%ld twice=%ld fact=%ld jumped=%d loop=%.6f\n", sum, t, f, v, /* LINE:print */
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9); /* LINE:print-args */
	return 0;
}
