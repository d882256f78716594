/*
 * tightloop.c: two threads spin on one line, a loop of one jump, once both
 * have started; main sleeps. A breakpoint on that line is hit by both
 * threads at once, whenever they run.
 */
#include <pthread.h>
#include <unistd.h>

static pthread_barrier_t barrier;

static void *spin(void *arg)
{
	pthread_barrier_wait(&barrier);
	for (;;) /* LINE:spin */
		;
	return arg;
}

int main(void)
{
	pthread_t th;

	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th, NULL, spin, NULL) != 0)
			return 2;
	for (;;)
		sleep(1);
}
