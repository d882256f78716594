/*
 * nopass.c: main waits in pthread_join for a thread that sleeps in a loop
 * for ever; once main is blocked there, the thread calls blocked() once.
 * handler() is SIGUSR1's handler, for a debugger to send the signal to
 * main with gdb's signal command.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int handled;

void handler(int sig)
{
	handled = sig; /* LINE:handler */
}

__attribute__((noinline)) void blocked(void)
{
}

/* main_sleeps reports whether the main thread is asleep (in pthread_join). */
static int main_sleeps(void)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'S';
}

void *thread_function(void *arg)
{
	while (!main_sleeps())
		usleep(1000);
	blocked();
	for (;;)
		usleep(1);
	return arg;
}

int main(void)
{
	pthread_t th;

	signal(SIGUSR1, handler);
	if (pthread_create(&th, NULL, thread_function, NULL) != 0)
		return 2;
	pthread_join(th, NULL);
	return 0;
}
