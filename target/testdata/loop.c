/* Calls hit() for ever, so a breakpoint there is hit again at once; the
 * resume benchmarks step and stop in it. */
volatile unsigned long hits;

__attribute__((noinline)) void hit(void) { hits++; }

int main(void) {
	for (;;)
		hit();
}
