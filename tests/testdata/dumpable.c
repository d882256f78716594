/*
 * dumpable.c: the process of the daemon's access tests. It prints
 * "ready pid=N", then on each line "nodump" of its stdin makes itself
 * non-dumpable (as ssh-agent does) and answers "nodump ok", and on a line
 * "exec PATH" runs the program PATH; it exits at the end of its stdin. With
 * an argument, a FIFO, it reads its lines from there instead (opened for
 * reading and writing, so that writers come and go).
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[256];
	FILE *in = stdin;

	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	if (argc > 1 && !(in = fopen(argv[1], "r+"))) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof line, in)) {
		if (strncmp(line, "nodump", 6) == 0) {
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			printf("nodump ok\n");
			fflush(stdout);
		} else if (strncmp(line, "exec ", 5) == 0) {
			line[strcspn(line, "\n")] = 0;
			execl(line + 5, line + 5, (char *)0);
			perror("exec");
		}
	}
	return 0;
}
