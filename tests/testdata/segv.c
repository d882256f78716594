/* segv.c: writes through a bad pointer, address 0x10, and dies of SIGSEGV. */
#include <stdio.h>

int main(void)
{
	volatile int *bad = (volatile int *)0x10;
	puts("segv: writing to 0x10");
	fflush(stdout);
	*bad = 1; /* LINE:fault */
	puts("segv: survived");
	return 0;
}
