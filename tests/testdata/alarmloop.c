/*
 * alarmloop.c: waits in a loop without system calls until its SIGALRM
 * handler has run WANT times (argv[1], 1 by default). The timer fires
 * FIRST microseconds after it starts (argv[2], at most 999999, 20000 by
 * default), and then every 2 ms when WANT is more than one: after a
 * debugger stopped at the loop, for the signals to arrive while it steps
 * over the loop. Exits with status 0 once they came.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>

static volatile sig_atomic_t count;

static void handler(int sig)
{ /* LINE:handler-entry */
	count += sig == SIGALRM; /* LINE:handler-count */
} /* LINE:handler-end */

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 1;
	long first = argc > 2 ? atol(argv[2]) : 20000;
	struct sigaction sa = {0};
	struct itimerval on = {{0, 2000}, {0, first}}, off = {{0, 0}, {0, 0}};

	if (want == 1)
		on.it_interval.tv_usec = 0;
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &on, NULL);
	while (count < want) /* LINE:loop */
		;
	setitimer(ITIMER_REAL, &off, NULL); /* LINE:after-loop */
	return count >= want ? 0 : 1;
}
