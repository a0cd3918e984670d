/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execv — execve(PATH, ARGV, ENVP) exactly as given, including an empty
 * argv (argc == 0), which no shell or python can produce.
 *   execv PATH NARGS [ARG...] [ENV...]
 * NARGS arguments form argv (0: argv = { NULL }); the rest is envp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: execv PATH NARGS [ARG...] [ENV...]\n");
		return 127;
	}
	int n = atoi(argv[2]);
	if (n < 0 || 3 + n > argc) {
		fprintf(stderr, "execv: bad NARGS\n");
		return 127;
	}
	char **av = calloc((size_t)n + 1, sizeof(char *));
	char **ev = calloc((size_t)(argc - 3 - n) + 1, sizeof(char *));
	if (!av || !ev)
		return 127;
	for (int i = 0; i < n; i++)
		av[i] = argv[3 + i];
	for (int i = 3 + n; i < argc; i++)
		ev[i - 3 - n] = argv[i];
	execve(argv[1], av, ev);
	fprintf(stderr, "execv: %s: %s\n", argv[1], strerror(errno));
	return errno == E2BIG ? 126 : 127;
}
