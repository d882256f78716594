#include <pthread.h>
#include <stdio.h>

int total;
pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void add(int v) {
	pthread_mutex_lock(&mu);
	total += v;
	pthread_mutex_unlock(&mu);
}

void *worker(void *arg) {
	for (int i = 0; i < 3; i++)
		add((int)(long)arg);
	return 0;
}

int main(void) {
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], 0, worker, (void *)(i + 1));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], 0);
	printf("total=%d\n", total);
	return total == 30 ? 0 : 1;
}
