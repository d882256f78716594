#include <pthread.h>
#include <stdio.h>

/* hammer.c: eight threads call hit() in a tight loop, 100000 times each,
 * so that several of them reach a breakpoint on it at the same moment.
 * Exits 0 when every call was counted. */

#define NTHREADS 8
#define CALLS 100000

volatile long counts[NTHREADS];

__attribute__((noinline)) void hit(int id) { counts[id]++; }

static void *worker(void *arg) {
	int id = (int)(long)arg;
	for (int i = 0; i < CALLS; i++)
		hit(id);
	return 0;
}

int main(void) {
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], 0, worker, (void *)i);
	long total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], 0);
		total += counts[i];
	}
	printf("total=%ld\n", total);
	return total == (long)NTHREADS * CALLS ? 0 : 1;
}
