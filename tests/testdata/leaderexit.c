/*
 * leaderexit.c: the main thread calls pthread_exit while a second thread
 * lives on. The second thread first calls both_alive() while the main
 * thread waits for it; it then waits for the main thread to be gone
 * (pthread_join), calls leader_gone() and ends the process with exit
 * code 5.
 */
#include <pthread.h>
#include <stdlib.h>

static pthread_t leader;
static pthread_barrier_t met;
static volatile int calls;

__attribute__((noinline)) void both_alive(void)
{
	calls++;
}

__attribute__((noinline)) void leader_gone(void)
{
	calls++; /* LINE:leader-gone */
}

static void *second(void *arg)
{
	(void)arg;
	both_alive();
	pthread_barrier_wait(&met);
	if (pthread_join(leader, NULL) != 0)
		exit(2);
	leader_gone();
	exit(5);
}

int main(void)
{
	pthread_t th;
	leader = pthread_self();
	pthread_barrier_init(&met, NULL, 2);
	if (pthread_create(&th, NULL, second, NULL) != 0)
		return 1;
	pthread_barrier_wait(&met);
	pthread_exit(NULL);
}
