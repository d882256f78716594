#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int child_work(int x) { return x + 1; }

/* fork.c [exec PATH]: forks a child that exits with child_work(2); the
 * parent exits with 10 + the child's status. With "exec", the child
 * execs PATH instead; with "vfork", it uses vfork and _exit. */
int main(int argc, char **argv) {
	int use_vfork = argc > 1 && strcmp(argv[1], "vfork") == 0;
	pid_t pid = use_vfork ? vfork() : fork();
	if (pid == 0) {
		if (argc > 2 && strcmp(argv[1], "exec") == 0)
			execl(argv[2], argv[2], (char *)0);
		_exit(child_work(2));
	}
	int status;
	waitpid(pid, &status, 0);
	write(1, "parent\n", 7);
	return 10 + WEXITSTATUS(status);
}
