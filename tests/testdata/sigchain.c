/*
 * sigchain.c: a target for attaching in the middle of signals. A thread's
 * SIGALRM handler raises SIGALRM again, which stays pending (blocked while
 * the handler runs) until the handler returns: one signal is always on its
 * way, and a debugger that attaches finds it pending or being delivered.
 * Once the chain runs, main prints "ready pid=N" and waits for its stdin
 * to reach end of file; then it ends the chain, joins the thread and
 * prints "done". A signal the debugger swallows ends the chain early, and
 * the thread then aborts the program.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t finish, raised;

static void action(int sig)
{
	raised = 1;
	if (!finish)
		raise(sig);
}

static void *chain(void *arg)
{
	struct sigaction sa = {0};

	sa.sa_handler = action;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	raise(SIGALRM);
	/* Reached only once the chain ends, when finish is set. */
	if (!finish)
		abort();
	return arg;
}

int main(void)
{
	pthread_t th;
	char c;

	/* Let a debugger that is not our ancestor attach under Yama's
	   ptrace_scope 1; without Yama this fails harmlessly. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	if (pthread_create(&th, NULL, chain, NULL) != 0)
		return 2;
	while (!raised)
		;
	printf("ready pid=%d\n", getpid());
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	finish = 1;
	pthread_join(th, NULL);
	printf("done\n");
	return 0;
}
