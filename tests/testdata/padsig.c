/*
 * padsig.c: calls hit() N times (argv[1], 5,000,000 by default) in a
 * tight loop while SIGALRM comes every 200 microseconds, its handler
 * counting. hit()'s first instruction loads a global through a
 * RIP-relative operand, long enough for a stub to patch in a jump to
 * code of its own: the signals then arrive as often inside that code as
 * in the program's. With "short" as argv[2] it calls hit_short() instead
 * (hit_short.h), whose first instruction is shorter than a jump. Prints
 * what it counted, and exits with status 0 when every call ran exactly
 * once, in order.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

volatile unsigned long hits;
volatile unsigned long alarms;

__attribute__((noinline)) void hit(void) {
	hits++; /* LINE:hit */
}

#include "hit_short.h"

static void handler(int sig) {
	(void)sig;
	alarms++;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	int short_insn = argc > 2 && strcmp(argv[2], "short") == 0;
	struct sigaction sa = {0};
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, 0);
	struct itimerval on = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &on, 0);
	unsigned long check = 0;
	for (long i = 0; i < n; i++) {
		if (short_insn)
			hit_short(1);
		else
			hit();
		check += hits;
	}
	setitimer(ITIMER_REAL, &off, 0);
	printf("hits=%lu check=%lu alarms=%lu\n", hits, check, alarms);
	return hits == (unsigned long)n && check == (unsigned long)n * (n + 1) / 2 ? 0 : 1;
}
