/* dual_lib.c: the shared library dual.c calls (libdual.so). */
int lib_scale(int x)
{
	int scaled = x * 3; /* LINE:lib-body */
	return scaled;
}
