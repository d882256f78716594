/*
 * threads.c: four threads each call worker(id) once, then wait with main so
 * that all five threads are alive when main calls all_started(). Every
 * worker call happens before all_started is called.
 */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4

static pthread_barrier_t started, finish;
static volatile int results[NTHREADS];

__attribute__((noinline)) void worker(int id)
{
	results[id] = id * 10 + 1; /* LINE:worker-body */
}

__attribute__((noinline)) void all_started(void)
{
}

static void *thread_main(void *arg)
{
	int id = (int)(long)arg;
	worker(id);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&finish);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	pthread_barrier_init(&started, NULL, NTHREADS + 1);
	pthread_barrier_init(&finish, NULL, NTHREADS + 1);
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)i) != 0)
			return 2;
	pthread_barrier_wait(&started);
	all_started();
	pthread_barrier_wait(&finish);
	int total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		total += results[i];
	}
	printf("threads: total=%d\n", total);
	return total == 64 ? 0 : 1;
}
