/* The main thread calls pthread_exit while the second thread spins for
 * ever, bumping spins. */
#include <pthread.h>

volatile unsigned long spins;

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		spins++;
	return NULL;
}

int main(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, spin, NULL) != 0)
		return 1;
	pthread_exit(NULL);
}
