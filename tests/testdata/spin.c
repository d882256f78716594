/*
 * spin.c: calls spinning() and then loops without system calls until a
 * debugger sets stop, then exits with status 3.
 */
#include <stdio.h>

volatile int stop;
volatile unsigned long spins;

__attribute__((noinline)) void spinning(void)
{
}

int main(void)
{
	spinning();
	while (!stop)
		spins++;
	printf("spin: stopped after %s spins\n", spins ? "some" : "no");
	return 3;
}
