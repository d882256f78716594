/*
 * tkill.c: main sends SIGUSR1 and SIGUSR2 to each of two threads with
 * tgkill while the threads block both, then lets them unblock at once, so
 * that signals are pending for several threads at the same moment. The
 * handler checks each signal's siginfo (SI_TKILL, sent by this process)
 * and that each thread gets each signal once. Exits with status 0 when
 * all four came so; the handler exits with 1 at the first wrong one.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t self;
static pid_t tids[2];
static volatile sig_atomic_t hits[2][2]; /* [thread][SIGUSR1, SIGUSR2] */
static pthread_barrier_t ready, sent;

static void handler(int sig, siginfo_t *si, void *uc)
{
	pid_t me = syscall(SYS_gettid);
	int t = me == tids[0] ? 0 : me == tids[1] ? 1 : -1;
	int s = sig == SIGUSR2;

	(void)uc;
	if (t < 0 || si->si_code != SI_TKILL || si->si_pid != self || hits[t][s]) {
		static const char msg[] = "tkill: wrong signal\n";
		write(2, msg, sizeof msg - 1);
		_exit(1);
	}
	hits[t][s] = 1;
}

static void *thread_main(void *arg)
{
	sigset_t set;

	tids[(long)arg] = syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&sent);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return NULL;
}

int main(void)
{
	struct sigaction sa = {0};
	pthread_t th[2];

	self = getpid();
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_barrier_init(&ready, NULL, 3);
	pthread_barrier_init(&sent, NULL, 3);
	for (long i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)i) != 0)
			return 2;
	pthread_barrier_wait(&ready);
	for (int i = 0; i < 2; i++) {
		syscall(SYS_tgkill, self, tids[i], SIGUSR1);
		syscall(SYS_tgkill, self, tids[i], SIGUSR2);
	}
	pthread_barrier_wait(&sent);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	printf("tkill: %d %d %d %d\n", hits[0][0], hits[0][1], hits[1][0], hits[1][1]); /* LINE:joined */
	return hits[0][0] && hits[0][1] && hits[1][0] && hits[1][1] ? 0 : 1;
}
