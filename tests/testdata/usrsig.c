/*
 * usrsig.c: raises SIGUSR1 and then SIGUSR2, whose numbers differ between
 * Linux (10, 12) and gdb's protocol (30, 31), and exits with the number of
 * signals its handler saw: 2 when the debugger reported each signal by its
 * right name and delivered it on resume.
 */
#include <signal.h>

static volatile sig_atomic_t seen;

static void handler(int sig)
{
	(void)sig;
	seen++;
}

int main(void)
{
	signal(SIGUSR1, handler);
	signal(SIGUSR2, handler);
	raise(SIGUSR1);
	raise(SIGUSR2);
	return seen;
}
