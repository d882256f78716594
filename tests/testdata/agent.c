/* agent.c: breakpoint conditions and dprintf that the stub evaluates
 * itself (gdb's agent expressions). visit() is called once per item, with
 * a pointer to it, a depth and a local computed from them; the program
 * prints what it added up, so that a test sees that every call ran once.
 *
 *   agent [N]   N items (10 by default)
 */
#include <stdio.h>
#include <stdlib.h>

struct item {
	int id;
	long weight;
	struct item *next;
};

volatile long total;

__attribute__((noinline)) void visit(struct item *it, int depth) {
	long local = it->weight * 2 + depth;
	total += local; /* LINE:visit */
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 10;
	struct item *items = calloc(n, sizeof *items);
	for (int i = 0; i < n; i++) {
		items[i].id = i;
		items[i].weight = i * 10;
		items[i].next = i + 1 < n ? &items[i + 1] : 0;
	}
	for (int i = 0; i < n; i++)
		visit(&items[i], i % 3);
	printf("total=%ld\n", total);
	return 0;
}
