#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int counter = 5;
char *edge; /* last 8 bytes of a mapped page, followed by an unmapped one */

int work(int x) { return x * 2 + counter; }

int main(void) {
	char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p + 4096, 4096);
	memset(p, 0xab, 4096);
	edge = p + 4096 - 8;
	int sum = 0;
	for (int i = 0; i < 3; i++)
		sum += work(i);
	printf("sum=%d counter=%d\n", sum, counter);
	fflush(stdout);
	return 7;
}
