/*
 * showargs.c REPORT [ARGS...]: writes what it was started with to the file
 * REPORT, one item a line: "argc=N", "arg=A" for every argument after
 * REPORT, "set=V" and "server=V" (the variables PROCGDB_T_SET and
 * PROCGDB_T_SERVER, or "(unset)"), and "cwd=DIR". It prints
 * "showargs: stdout" on its standard output (for redirections) and exits
 * with the number of arguments after REPORT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v ? v : "(unset)";
}

int main(int argc, char **argv)
{
	char cwd[4096];
	FILE *out;

	if (argc < 2 || (out = fopen(argv[1], "w")) == NULL)
		return 100;
	fprintf(out, "argc=%d\n", argc); /* LINE:showargs-first */
	for (int i = 2; i < argc; i++)
		fprintf(out, "arg=%s\n", argv[i]);
	fprintf(out, "set=%s\n", env("PROCGDB_T_SET"));
	fprintf(out, "server=%s\n", env("PROCGDB_T_SERVER"));
	fprintf(out, "cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "(error)");
	fclose(out);
	printf("showargs: stdout\n");
	return argc - 2;
}
