/* tls_lib.c: a shared library with thread-local storage that tls.c links
 * with (libtls_lib.so), so that its block is in every thread from the
 * start. */
__thread int libtvar = 12;
