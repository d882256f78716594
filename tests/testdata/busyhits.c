/* busyhits.c: hit() runs N times (5000 by default; 0: for ever) in main,
 * adding to a global through RIP-relative instructions, while BUSY
 * threads count for ever and a waiter thread sleeps in epoll_wait, which
 * every stop of the thread by a debugger interrupts (EINTR, never
 * restarted). The program prints how often that happened: a stub that
 * passes a breakpoint in hit() without stopping the other threads leaves
 * it at the number of stops reported to gdb. With "fork", main forks once
 * hit() has run 100 times, before any thread starts, and parent and child
 * both go on.
 *
 *   busyhits [N [BUSY [fork]]]   BUSY busy threads (2 by default, at most 256)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long hits;
volatile unsigned long counters[256];
volatile unsigned long eintrs;

__attribute__((noinline)) void hit(void) {
	hits++; /* LINE:hit */
}

static void *busy(void *arg) {
	volatile unsigned long *c = arg;
	for (;;)
		(*c)++;
	return 0;
}

static void *waiter(void *arg) {
	int ep = epoll_create1(0), ev = eventfd(0, 0);
	struct epoll_event e = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e);
	for (;;)
		if (epoll_wait(ep, &e, 1, -1) < 0 && errno == EINTR)
			eintrs++;
	return 0;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 5000;
	int nbusy = argc > 2 ? atoi(argv[2]) : 2;
	if (nbusy > 256)
		nbusy = 256;
	if (argc > 3 && strcmp(argv[3], "fork") == 0) {
		while (hits < 100)
			hit();
		fork();
	}
	pthread_t t;
	for (int i = 0; i < nbusy; i++)
		pthread_create(&t, 0, busy, (void *)&counters[i]);
	pthread_create(&t, 0, waiter, 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; n == 0 || i < n; i++)
		hit();
	clock_gettime(CLOCK_MONOTONIC, &b);
	unsigned long busy0 = nbusy > 0 ? counters[0] : 0;
	printf("hits=%lu eintrs=%lu busy0=%lu time=%.6f\n", hits, eintrs, busy0,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
