/*
 * forker.c MODE [ARGS...], for the fork, vfork and exec events:
 *   forker fork       forks; the child exits with child_work(2), 3, by
 *                     the exit_group system call at the instruction
 *                     labelled exit_syscall (as _exit does); the parent
 *                     waits for it and exits with 10 + its status
 *   forker vfork      the same with vfork
 *   forker exec PROG [ARGS...]  execs PROG with ARGS (argv[0] is PROG)
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int child_work(int x)
{
	return x + 1; /* LINE:child-work */
}

__attribute__((noinline, noreturn)) static void exit_now(int code)
{
	__asm__ volatile(".globl exit_syscall\nexit_syscall: syscall"
			 : : "a"(SYS_exit_group), "D"(code) : "memory");
	__builtin_unreachable();
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "exec") == 0) {
		execv(argv[2], &argv[2]);
		perror("forker: exec");
		return 127;
	}
	if (argc != 2 || (strcmp(argv[1], "fork") != 0 && strcmp(argv[1], "vfork") != 0))
		return 100;
	pid_t pid = strcmp(argv[1], "vfork") == 0 ? vfork() : fork();
	if (pid < 0)
		return 101;
	if (pid == 0)
		exit_now(child_work(2));
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 102;
	return 10 + WEXITSTATUS(status); /* LINE:parent-exit */
}
