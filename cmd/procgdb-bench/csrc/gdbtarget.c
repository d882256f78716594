/* The programs of procgdb-bench's gdb-driven and thread-count rows;
 * procgdb-bench compiles it with gcc -O0 -g -no-pie -pthread.
 *
 *   gdbtarget spin              spins in spin() for ever (stepi)
 *   gdbtarget calls N T [S]     T busy threads count while main calls
 *                               hit(i) N times, or for S seconds at
 *                               most; prints the threads' counts per
 *                               second, and the calls made with their
 *                               time ("CALLS n secs"), exits 0
 *   gdbtarget loop K [time]     one source line in loop() loops K times
 *                               (next); with "time", prints how long
 *                               the line took without a debugger
 *   gdbtarget sleepers T N      T threads asleep; stops with int3, calls
 *                               bp() N times, stops with int3 again and
 *                               exits (the stop-cost rows)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long hits;
volatile long sink;
static volatile int stop;

__attribute__((noinline)) void bp(void) {
	hits++;
}

__attribute__((noinline)) void hit(int v) {
	sink += v;
}

__attribute__((noinline)) void spin(void) {
	for (;;)
		sink++;
}

/* The loop is the function's first line, where "break loop" stops. */
__attribute__((noinline)) void loop(long k) {
	for (long i = 0; i < k; i++) sink += i * 3;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *busy(void *arg) {
	unsigned long *count = arg;
	while (!stop)
		(*count)++;
	return 0;
}

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "spin") == 0) {
		spin();
	} else if (strcmp(argv[1], "calls") == 0 && (argc == 4 || argc == 5)) {
		int n = atoi(argv[2]), t = atoi(argv[3]);
		double limit = argc == 5 ? atof(argv[4]) : 0;
		pthread_t *th = calloc(t, sizeof *th);
		unsigned long *counts = calloc(t, sizeof *counts);
		for (int i = 0; i < t; i++)
			pthread_create(&th[i], 0, busy, &counts[i]);
		double t0 = now();
		int i;
		for (i = 0; i < n; i++) {
			hit(i);
			if (limit > 0 && i % 16 == 15 && now() - t0 > limit) {
				i++;
				break;
			}
		}
		double t1 = now();
		stop = 1;
		unsigned long sum = 0;
		for (int i = 0; i < t; i++) {
			pthread_join(th[i], 0);
			sum += counts[i];
		}
		printf("BUSY %.0f\n", t > 0 ? sum / (now() - t0) : 0.0);
		printf("CALLS %d %f\n", i, t1 - t0);
	} else if (strcmp(argv[1], "loop") == 0 && argc >= 3) {
		long k = atol(argv[2]);
		double t0 = now();
		loop(k);
		if (argc > 3)
			printf("LOOP %f\n", now() - t0);
	} else if (strcmp(argv[1], "sleepers") == 0 && argc == 4) {
		int t = atoi(argv[2]), n = atoi(argv[3]);
		for (int i = 0; i < t; i++) {
			pthread_t th;
			pthread_create(&th, 0, sleeper, 0);
		}
		raise(SIGTRAP);
		for (int i = 0; i < n; i++)
			bp();
		raise(SIGTRAP);
	} else {
		return 2;
	}
	return 0;
}
