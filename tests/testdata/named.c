/*
 * named.c: an 8-thread attach target. main starts seven workers named
 * "worker-1" to "worker-7" (pthread_setname_np); each calls tick(id, i)
 * for i = 0, 1, 2, ... and sleeps a little in between, until main tells
 * them to stop. Once all run, main prints "ready pid=N", waits for its
 * stdin to reach end of file, stops and joins the workers and prints
 * "done threads=7 ok=1" when every worker's sum is 0 + 1 + ... + (n-1) for
 * its n ticks (a breakpoint byte left behind would kill the process, a
 * corrupted register would break a sum).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 7

static pthread_barrier_t started;
static volatile int done;
static long sums[NWORKERS + 1], ticks[NWORKERS + 1];

__attribute__((noinline)) void tick(int id, long i)
{
	sums[id] += i; /* LINE:tick-body */
	ticks[id]++;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	struct timespec ms = {0, 1000000};
	char name[16];

	snprintf(name, sizeof name, "worker-%d", id);
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&started);
	for (long i = 0; !done; i++) {
		tick(id, i);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NWORKERS + 1];
	char buf[64];
	int joined = 0, ok = 1;

	/* Let a debugger that is not our ancestor attach under Yama's
	   ptrace_scope 1; without Yama this fails harmlessly. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	pthread_barrier_init(&started, NULL, NWORKERS + 1);
	for (int id = 1; id <= NWORKERS; id++)
		if (pthread_create(&th[id], NULL, worker, (void *)(long)id) != 0)
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
	for (int id = 1; id <= NWORKERS; id++) {
		joined += pthread_join(th[id], NULL) == 0;
		if (ticks[id] == 0 || sums[id] != ticks[id] * (ticks[id] - 1) / 2)
			ok = 0;
	}
	printf("done threads=%d ok=%d\n", joined, ok);
	return 0;
}
