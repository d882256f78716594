/* The program procgdb --example debugs. */
#include <stdio.h>

static int total;

int greet(const char *who, int count)
{
	for (int i = 0; i < count; i++)
		printf("hello, %s (%d)\n", who, i + 1);
	total += count;
	return total;
}

int main(void)
{
	greet("procgdb", 2);
	greet("gdb", 1);
	printf("total %d\n", total);
	return 0;
}
