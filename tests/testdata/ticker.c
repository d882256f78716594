/*
 * ticker.c: the target of the attach tests. It prints "ready pid=N" once,
 * then calls tick() once a millisecond until its stdin reaches end of file,
 * and once more after that. Then it prints how often it ticked and whether
 * the sum tick() accumulated is right. A stray int3 left in tick() after a
 * detach would kill it with SIGTRAP; a corrupted tick() would break the sum.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static unsigned long sum;

__attribute__((noinline)) void tick(unsigned long i)
{
	sum += i; /* LINE:tick-body */
}

int main(void)
{
	char c;
	unsigned long n = 0;
	struct timespec ms = {0, 1000000};

	/* Let a debugger that is not our ancestor attach under Yama's
	   ptrace_scope 1; without Yama this fails harmlessly. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		ssize_t r = read(0, &c, 1);
		tick(n++); /* also once after end of file */
		if (r == 0)
			break;
		nanosleep(&ms, NULL);
	}
	printf("done ticks=%lu sum=%lu ok=%d\n", n, sum, sum == n * (n - 1) / 2);
	return 0;
}
