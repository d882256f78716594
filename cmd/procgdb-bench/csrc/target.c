/* The benchmark's target: procgdb-bench compiles it with gcc -O1 -no-pie.
 *
 *   target MIB SEED HITS [wait]
 *
 * maps MIB MiB at BASE and fills it with the pattern of SEED (word i is
 * mix(SEED + (i+1) * GOLDEN), the splitmix64 sequence, which the bench
 * computes for any i), then stops with int3 (stop 1: memory ready). It
 * then calls bp() HITS times (the bench puts a breakpoint there), stops
 * with int3 again (stop 2), and spins for single steps. With "wait" it
 * prints "ready" and sleeps instead of stopping, for the bench's
 * process_vm_readv measurement without a debugger. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BASE ((void *)0x200000000UL)
#define GOLDEN 0x9e3779b97f4a7c15ULL

volatile unsigned long hits;
volatile unsigned long spins;

static uint64_t mix(uint64_t z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

__attribute__((noinline)) void bp(void) {
	hits++;
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
	if (argc < 4)
		return 2;
	size_t size = strtoul(argv[1], 0, 0) << 20;
	uint64_t seed = strtoull(argv[2], 0, 0);
	long n = strtol(argv[3], 0, 0);
	uint64_t *p = mmap(BASE, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != BASE)
		return 3;
	for (size_t i = 0; i < size / 8; i++)
		p[i] = mix(seed + (i + 1) * GOLDEN);
	if (argc > 4 && strcmp(argv[4], "wait") == 0) {
		puts("ready");
		fflush(stdout);
		for (;;)
			pause();
	}
	raise(SIGTRAP);
	for (long i = 0; i < n; i++)
		bp();
	raise(SIGTRAP);
	for (;;)
		spins++;
}
