/*
 * dual.c: the program the lldb, gdb and DAP end-to-end tests debug alike
 * (tests/lldb_test.go, tests/dap_test.go). It calls into a shared library
 * (dual_lib.c, built as libdual.so next to it), steps through a local
 * function, starts three threads so that four are alive at all_started(),
 * and exits with status 3.
 *
 * Lines the tests refer to carry a "LINE:name" marker.
 */
#include <pthread.h>
#include <stdio.h>

int lib_scale(int x);

#define NWORKERS 3

int global_counter = 5;
static pthread_barrier_t started, finish;

/* ymm0 holds these eight 32-bit words when vec_loaded is called. */
static const unsigned int vecsrc[8] = {
	0x11111111, 0x22222222, 0x33333333, 0x44444444,
	0x55555555, 0x66666666, 0x77777777, 0x88888888,
};

__attribute__((noinline)) static void vec_loaded(void)
{
}

__attribute__((noinline)) static int square(int v)
{
	int sq = v * v; /* LINE:square-body */
	return sq;      /* LINE:square-return */
}

__attribute__((noinline)) void all_started(void)
{
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&finish);
	return NULL;
}

int main(void)
{
	int local = 7;                  /* LINE:main-first */
	int sq = square(local);         /* LINE:call-square */
	int scaled = lib_scale(sq);     /* LINE:call-lib */
	global_counter += scaled;       /* LINE:after-lib */

	__asm__ volatile("vmovdqu %0, %%ymm0" : : "m"(vecsrc) : "xmm0");
	vec_loaded();

	pthread_t th[NWORKERS];
	pthread_barrier_init(&started, NULL, NWORKERS + 1);
	pthread_barrier_init(&finish, NULL, NWORKERS + 1);
	for (long i = 0; i < NWORKERS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
			return 2;
	pthread_barrier_wait(&started);
	all_started();
	pthread_barrier_wait(&finish);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	printf("dual: counter=%d\n", global_counter);
	return 3;
}
