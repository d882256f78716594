/*
 * tls_static.c: a thread-local variable in a statically linked program,
 * which has no dynamic linker and so no link_map to name its TLS by.
 */
__thread int tvar = 11;

__attribute__((noinline)) void at_main(void) {}

int main(void)
{
	tvar = 5;
	at_main();
	return tvar == 5 ? 0 : 1;
}
