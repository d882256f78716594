/*
 * spinthread.c: a second thread counts in spins, without system calls,
 * until a debugger sets stop; main waits until it runs, calls ready() and
 * joins it.
 */
#include <pthread.h>

volatile int stop, started;
volatile unsigned long spins;

static void *spinner(void *arg)
{
	started = 1;
	while (!stop)
		spins++; /* LINE:spin */
	return arg;
}

__attribute__((noinline)) void ready(void)
{
}

int main(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, spinner, NULL) != 0)
		return 2;
	while (!started)
		;
	ready();
	pthread_join(th, NULL);
	return 0;
}
