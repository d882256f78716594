/*
 * rawclone.c MODE: makes one task with clone() itself, not with pthreads,
 * and sends it SIGUSR1 at once, before a debugger can have seen it. The
 * task waits for the signal, calls in_clone() and ends with code 7; the
 * program checks that the signal reached that task, from the program, and
 * that the task ended, then exits 0 (another code says what went wrong).
 *   rawclone thread  a thread of the process: CLONE_VM, CLONE_THREAD and
 *                    the other flags pthreads uses
 *   rawclone vm      a task of its own thread group that shares the
 *                    memory (CLONE_VM alone, no exit signal), waited for
 *                    with waitpid(__WCLONE)
 * With a second argument "hold" the task never ends after in_clone(), for
 * tests that kill the program.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)

static volatile sig_atomic_t got_signal, got_code;
static volatile pid_t got_tid;
static volatile pid_t clone_tid = -1; /* the kernel sets it to the thread's id, and clears it when the thread ends */
static volatile int calls;
static int hold;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signal = sig;
	got_code = si->si_code;
	got_tid = (pid_t)syscall(SYS_gettid);
}

__attribute__((noinline)) void in_clone(void)
{
	calls++; /* LINE:in-clone */
}

static int task(void *arg)
{
	(void)arg;
	while (!got_signal)
		;
	in_clone();
	while (hold)
		pause();
	return 7;
}

int main(int argc, char **argv)
{
	if (argc != 2 && (argc != 3 || strcmp(argv[2], "hold") != 0))
		return 100;
	hold = argc == 3;
	int thread = strcmp(argv[1], "thread") == 0;
	if (!thread && strcmp(argv[1], "vm") != 0)
		return 100;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);

	char *stack = malloc(STACK_SIZE);
	if (stack == NULL)
		return 101;
	int flags = CLONE_VM;
	if (thread)
		flags |= CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
	pid_t tid = clone(task, stack + STACK_SIZE, flags, NULL, NULL, NULL, &clone_tid);
	if (tid < 0)
		return 102;
	if (syscall(SYS_tgkill, thread ? getpid() : tid, tid, SIGUSR1) != 0)
		return 103;
	if (thread) {
		for (pid_t t; (t = clone_tid) != 0;)
			syscall(SYS_futex, &clone_tid, FUTEX_WAIT, t, NULL, NULL, 0);
	} else {
		int status;
		if (waitpid(tid, &status, __WCLONE) != tid)
			return 104;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
			return 105;
	}
	if (got_signal != SIGUSR1 || got_code != SI_TKILL || got_tid != tid)
		return 106;
	if (calls != 1)
		return 107;
	return 0;
}
