/*
 * sigall.c: raises every signal a handler can catch once, in order, in the
 * manner of gdb's own sigall test, and checks that each reached its
 * handler, in that order, exactly once. It prints "sigall: N signals ok"
 * and exits 0, or names the first signal that went wrong and exits 1.
 *
 * The signals are Linux's 1 to 31, except SIGKILL and SIGSTOP (which
 * cannot be caught), SIGTRAP (which the debugger keeps for itself) and
 * SIGSTKFLT (which gdb has no name for), then the real-time signals from
 * SIGRTMIN to SIGRTMAX (34 to 64: glibc keeps 32 and 33). The tests list
 * the same signals by gdb's names.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int want[NSIG];
static int nwant;
static volatile sig_atomic_t seen[NSIG];
static volatile sig_atomic_t order[NSIG];
static volatile sig_atomic_t nseen;

static void handler(int sig)
{
	if (sig > 0 && sig < NSIG) {
		seen[sig]++;
		if (nseen < NSIG)
			order[nseen] = sig;
	}
	nseen++;
}

int main(void)
{
	struct sigaction sa;
	int sig, i;

	for (sig = 1; sig < 32; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGTRAP || sig == SIGSTKFLT)
			continue;
		want[nwant++] = sig;
	}
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		want[nwant++] = sig;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nwant; i++) {
		if (sigaction(want[i], &sa, NULL) != 0) {
			printf("sigall: sigaction %d failed\n", want[i]);
			return 1;
		}
	}

	for (i = 0; i < nwant; i++)
		raise(want[i]);

	for (i = 0; i < nwant; i++) {
		if (seen[want[i]] != 1 || order[i] != want[i]) {
			printf("sigall: signal %d seen %d times, handler %d was number %d\n",
			       want[i], (int)seen[want[i]], i, (int)order[i]);
			return 1;
		}
	}
	if (nseen != nwant) {
		printf("sigall: %d signals handled, want %d\n", (int)nseen, nwant);
		return 1;
	}
	printf("sigall: %d signals ok\n", nwant);
	return 0;
}
