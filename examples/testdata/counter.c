/*
 * counter.c [N | wait]: the examples' program. With a number N (3 when
 * absent) it calls work(1) to work(N), each of which adds its argument to
 * the global total, and exits with status N. With "wait" it prints
 * "ready pid=PID" and waits for its standard input to reach end of file,
 * then exits with status 0: a running process to attach to. marker is
 * there for snapshot to find.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int total;
char marker[] = "counter.c's marker, in its data";

__attribute__((noinline)) void work(int i)
{
	total += i;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		char buf[64];
		printf("ready pid=%d\n", getpid());
		fflush(stdout);
		while (read(0, buf, sizeof buf) > 0)
			;
		return 0;
	}
	int n = argc > 1 ? atoi(argv[1]) : 3;
	for (int i = 1; i <= n; i++)
		work(i);
	return n;
}
