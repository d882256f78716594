/*
 * checksum.c: the hardening tests' program. It does some work and prints a
 * checksum of it, then checks that the code of every object it has loaded
 * (itself, libc, the dynamic linker) is in memory exactly as in its file on
 * disk: a breakpoint left behind shows up as "text=modified".
 *
 * Usage: checksum ROUNDS [wait]. With "wait" it prints "ready pid=N" and
 * waits until `go` is set, by a debugger or by SIGUSR1, before it works.
 * Each round is a call of work_round(), which folds ITEMS numbers into
 * `acc` through mix() and then increments `counter`. At the end it prints
 * "checksum=HEX text=ok" (or "text=modified ...") and exits with 0 (1).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define ITEMS 8

volatile int go;
volatile unsigned long counter;
unsigned long long acc = 1469598103934665603ULL;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

unsigned long long mix(unsigned long long h, unsigned long v)
{
	h ^= v; /* LINE:mix */
	h *= 1099511628211ULL;
	return h;
}

void work_round(int round)
{
	for (int i = 0; i < ITEMS; i++)
		acc = mix(acc, (unsigned long)round * 1000 + i); /* LINE:inner */
	counter++; /* LINE:counter */
}

/* compare_object compares the executable segments of one loaded object
   with its file; it counts differing bytes in *bad. */
static int compare_object(struct dl_phdr_info *info, size_t size, void *data)
{
	int *bad = data;
	const char *path = info->dlpi_name;
	(void)size;
	if (path == NULL || path[0] == '\0')
		path = "/proc/self/exe";
	if (strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0)
		return 0; /* no file */
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		const unsigned char *mem = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		unsigned char buf[4096];
		for (size_t off = 0; off < ph->p_filesz; off += sizeof buf) {
			size_t n = ph->p_filesz - off < sizeof buf ? ph->p_filesz - off : sizeof buf;
			if (pread(fd, buf, n, ph->p_offset + off) != (ssize_t)n) {
				(*bad)++;
				break;
			}
			for (size_t k = 0; k < n; k++) {
				if (buf[k] != mem[off + k]) {
					if (*bad < 4)
						fprintf(stderr, "%s: %#zx: %02x in memory, %02x on disk\n",
							path, (size_t)ph->p_vaddr + off + k, mem[off + k], buf[k]);
					(*bad)++;
				}
			}
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	int bad = 0;

	/* Let a debugger that is not our ancestor attach under Yama's
	   ptrace_scope 1; without Yama this fails harmlessly. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	signal(SIGUSR1, on_usr1);
	if (argc > 2 && strcmp(argv[2], "wait") == 0) {
		struct timespec ms = {0, 1000000};
		printf("ready pid=%d\n", (int)getpid());
		fflush(stdout);
		while (!go)
			nanosleep(&ms, NULL); /* LINE:wait */
	}
	for (int r = 0; r < rounds; r++)
		work_round(r);
	dl_iterate_phdr(compare_object, &bad);
	if (bad)
		printf("checksum=%016llx text=modified bytes=%d\n", acc, bad);
	else
		printf("checksum=%016llx text=ok\n", acc);
	return bad ? 1 : 0;
}
