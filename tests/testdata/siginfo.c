/*
 * siginfo.c: takes one signal and prints the siginfo_t its SA_SIGINFO
 * handler sees, for the tests that change $_siginfo at the stop. With
 * "segv" it writes to address 0x10; with "usr1" it raises SIGUSR1. The
 * handler prints "handler: signo=N errno=N code=N addr=0xN" and exits 0
 * (returning would fault again); the program exits 1 if it comes back.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void handler(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	printf("handler: signo=%d errno=%d code=%d addr=%p\n",
	       info->si_signo, info->si_errno, info->si_code, info->si_addr);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (argc > 1 && strcmp(argv[1], "usr1") == 0)
		raise(SIGUSR1);
	else
		*(volatile int *)0x10 = 1; /* LINE:fault */
	return 1;
}
