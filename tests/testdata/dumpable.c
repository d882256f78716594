/*
 * dumpable.c: the process of the daemon's access tests. It prints
 * "ready pid=N", then on each line "nodump" of its stdin makes itself
 * non-dumpable (as ssh-agent does) and answers "nodump ok"; it exits at
 * the end of its stdin.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
	char line[64];

	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "nodump", 6) == 0) {
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			printf("nodump ok\n");
			fflush(stdout);
		}
	}
	return 0;
}
