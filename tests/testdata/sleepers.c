/*
 * sleepers.c: a multi-threaded target for the attach tests. Three threads
 * sleep in a loop; once all run, main prints "ready pid=N" and waits for its
 * stdin to reach end of file, then stops and joins the threads and prints
 * "done threads=3".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 3

static pthread_barrier_t started;
static volatile int done;

static void *sleeper(void *arg)
{
	struct timespec ms = {0, 1000000};
	(void)arg;
	pthread_barrier_wait(&started);
	while (!done)
		nanosleep(&ms, NULL);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	char buf[64];
	int joined = 0;

	/* Let a debugger that is not our ancestor attach under Yama's
	   ptrace_scope 1; without Yama this fails harmlessly. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	pthread_barrier_init(&started, NULL, NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, sleeper, NULL) != 0)
			return 2;
	pthread_barrier_wait(&started);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	done = 1;
	for (int i = 0; i < NTHREADS; i++)
		joined += pthread_join(th[i], NULL) == 0;
	printf("done threads=%d\n", joined);
	return 0;
}
