/*
 * nonstop.c: four threads count, each in counters[i], until quit is set; a
 * fifth calls hit() in a loop; a sixth waits until leave is set and exits.
 * Every loop sleeps a millisecond per turn, so that the program leaves the
 * machine's CPUs to its debugger. hit() is first called once every thread
 * exists.
 */
#include <pthread.h>
#include <unistd.h>

#define NCOUNT 4

volatile unsigned long counters[NCOUNT];
volatile int quit, leave, started;

__attribute__((noinline)) void hit(int n)
{
	asm volatile("" ::"r"(n));
}

__attribute__((noinline)) void ready(void)
{
}

static void *counter(void *arg)
{
	int i = (int)(long)arg;
	while (!quit) {
		counters[i]++;
		usleep(1000);
	}
	return 0;
}

static void *hitter(void *arg)
{
	while (!started)
		usleep(1000);
	for (int n = 0; !quit; n++) {
		hit(n);
		usleep(1000);
	}
	return arg;
}

static void *leaver(void *arg)
{
	while (!leave && !quit)
		usleep(1000);
	return arg;
}

int main(void)
{
	pthread_t th[NCOUNT + 2];
	for (long i = 0; i < NCOUNT; i++)
		pthread_create(&th[i], 0, counter, (void *)i);
	pthread_create(&th[NCOUNT], 0, hitter, 0);
	pthread_create(&th[NCOUNT + 1], 0, leaver, 0);
	started = 1;
	ready();
	for (int i = 0; i < NCOUNT + 2; i++)
		pthread_join(th[i], 0);
	return 0;
}
