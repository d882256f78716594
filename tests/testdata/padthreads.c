/*
 * padthreads.c: T threads (argv[1], 4 by default, at most 64) call hit()
 * for ever, while main calls tick() every 200 microseconds. hit() starts
 * with a load of a global through a RIP-relative operand, long enough
 * for a stub to patch in a jump to code of its own; a breakpoint at
 * tick() stops the whole program again and again while the threads are
 * in that code. With "short" as argv[2] they call hit_short() instead
 * (hit_short.h), whose first instruction is shorter than a jump.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile unsigned long hits;
volatile unsigned long ticks;

__attribute__((noinline)) void hit(void) {
	hits++;
}

#include "hit_short.h"

__attribute__((noinline)) void tick(void) {
	ticks++;
}

static void *caller(void *arg) {
	(void)arg;
	for (;;)
		hit();
	return 0;
}

static void *caller_short(void *arg) {
	(void)arg;
	for (;;)
		hit_short(1);
	return 0;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 4;
	if (n > 64)
		n = 64;
	int short_insn = argc > 2 && strcmp(argv[2], "short") == 0;
	pthread_t t;
	for (int i = 0; i < n; i++)
		pthread_create(&t, 0, short_insn ? caller_short : caller, 0);
	for (;;) {
		tick();
		usleep(200);
	}
}
