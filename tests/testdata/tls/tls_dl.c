/* tls_dl.c: a shared library with thread-local storage that tls.c loads
 * with dlopen (libtls_dl.so), so that its block is allocated in a thread
 * only when the thread first uses it. */
__thread int dltvar = 13;

void dl_set(int v)
{
	dltvar = v;
}
