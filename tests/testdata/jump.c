/*
 * jump.c: three assignments the tests skip by moving the PC (gdb's jump,
 * and set $pc as IDEs do for "set next statement"). third_pc holds the
 * address of the third. The exit status is a + b + c: 3 when only the
 * third ran.
 */
volatile int a, b, c;
void *third_pc;

int main(void)
{
	third_pc = &&third;
	a = 1; /* LINE:first */
	b = 2; /* LINE:second */
third:
	c = 3; /* LINE:third */
	return a + b + c;
}
