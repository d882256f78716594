/*
 * tls.c: thread-local variables of every kind a debugger must find: the
 * executable's own (tvar), a shared library's it is linked with (libtvar,
 * libtls_lib.so), a library's it dlopens (dltvar, libtls_dl.so, whose
 * path is argv[1]) and libc's errno. The main thread sets them all and
 * calls at_main; then a second thread calls at_untouched before it has
 * used dltvar (its block of the dlopened library is not allocated yet),
 * sets its own values and calls at_second.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

__thread int tvar = 11;
extern __thread int libtvar;

static void (*dl_set)(int);

__attribute__((noinline)) void at_main(void) {}
__attribute__((noinline)) void at_untouched(void) {}
__attribute__((noinline)) void at_second(void) {}

/* set_all gives the calling thread's variables base+1 to base+4. */
static void set_all(int base)
{
	tvar = base + 1;
	libtvar = base + 2;
	dl_set(base + 3);
	errno = base + 4;
}

static void *second(void *arg)
{
	(void)arg;
	at_untouched();
	set_all(20);
	at_second();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW);
	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	dl_set = (void (*)(int))dlsym(h, "dl_set");
	if (dl_set == NULL)
		return 2;
	set_all(0);
	at_main();
	pthread_t th;
	if (pthread_create(&th, NULL, second, NULL) != 0)
		return 2;
	pthread_join(th, NULL);
	return 0;
}
