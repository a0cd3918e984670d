/* SPDX-License-Identifier: GPL-2.0-or-later */
/* argdump — a stand-in login shell that shows exactly what it was given:
 * writes argc, then every argv string NUL-terminated, to $ARGDUMP_OUT if
 * that file name is compiled in, else to stdout. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("%d", argc);
	putchar('\0');
	for (int i = 0; i < argc; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, stdout);
	return 0;
}
