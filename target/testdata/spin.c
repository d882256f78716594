#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long spins;

/* Spins until told to stop through its stdin closing, or for ever. */
int step(int i) { return i + 1; }

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : -1;
	int i = 0;
	if (n < 0) {
		for (;;)
			spins++;
	}
	/* Attach target: counts slowly to n, printing as it goes. */
	while (i < n) {
		i = step(i);
		printf("%d\n", i);
		fflush(stdout);
		usleep(20000);
	}
	return 0;
}
