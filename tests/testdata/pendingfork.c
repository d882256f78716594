/*
 * pendingfork.c MODE FILE: a second thread forks (MODE fork) or vforks
 * (MODE vfork) once main lets it go (release); the child execs this
 * program again as "pendingfork touch FILE", which creates FILE and exits.
 * Main meanwhile calls break_here(), waits for the second thread and
 * reaps the child.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int release;
static volatile int calls;
static pthread_barrier_t barrier;
static char *self, *mode, *file;
static pid_t child;

__attribute__((noinline)) void break_here(void)
{
	calls++;
}

static void *forker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&barrier);
	while (!release)
		;
	child = strcmp(mode, "vfork") == 0 ? vfork() : fork();
	if (child == 0) {
		execl(self, self, "touch", file, (char *)NULL);
		_exit(127);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 100;
	if (strcmp(argv[1], "touch") == 0) {
		FILE *f = fopen(argv[2], "w");
		return f == NULL || fclose(f) != 0;
	}
	alarm(60); /* a debugger that never lets the second thread go */
	self = argv[0], mode = argv[1], file = argv[2];
	pthread_t th;
	pthread_barrier_init(&barrier, NULL, 2);
	if (pthread_create(&th, NULL, forker, NULL) != 0)
		return 101;
	pthread_barrier_wait(&barrier);
	break_here();
	pthread_join(th, NULL);
	int status;
	if (child <= 0 || waitpid(child, &status, 0) != child)
		return 102;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 103;
}
