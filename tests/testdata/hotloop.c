/*
 * hotloop.c: calls tick() in a loop without system calls until a debugger
 * sets stop, then exits with status 3. A breakpoint in tick() is hit on
 * every round, so the program spends most of its time stopping at it and
 * being stepped over it: the moments an interrupt can race with.
 */
volatile int stop;
volatile unsigned long ticks;

__attribute__((noinline)) void tick(void)
{
	ticks++; /* LINE:tick-body */
}

int main(void)
{
	while (!stop)
		tick();
	return 3;
}
