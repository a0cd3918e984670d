/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_invoke.c — the documented invocations of ns-shell, and nothing else.
 * The command string is passed on verbatim: never split, quoted or built. */
#include <string.h>

#include "ns_invoke.h"
#include "ns_util.h"

int ns_invocation_parse(int argc, char *const *argv, const char *ssh_cmd,
			struct ns_invocation *ret)
{
	struct ns_invocation inv = { 0 };

	if (argc < 1 || !argv || !argv[0])
		return -EINVAL;
	inv.login = argv[0][0] == '-';

	if (argc == 1) {
		if (inv.login) {
			inv.mode = NS_MODE_LOGIN;
		} else if (ssh_cmd) {
			/* ForceCommand: sshd runs `SHELL -c ns-shell` with the
			 * client's command in SSH_ORIGINAL_COMMAND. */
			inv.mode = NS_MODE_COMMAND;
			inv.command = ssh_cmd;
		} else {
			inv.mode = NS_MODE_INTERACTIVE;
		}
	} else if (argc == 2 && strcmp(argv[1], "--check") == 0) {
		inv.mode = NS_MODE_CHECK;
	} else if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		inv.mode = NS_MODE_VERSION;
	} else if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		inv.mode = NS_MODE_HELP;
	} else if (argc == 3 && strcmp(argv[1], "-c") == 0) {
		inv.mode = NS_MODE_COMMAND;
		inv.command = argv[2];
	} else {
		return -EINVAL;
	}
	*ret = inv;
	return 0;
}

int ns_shell_argv(const char *shell, const struct ns_invocation *inv,
		  char *buf, size_t size, const char *ret_argv[4])
{
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	if (!*base || strlen(base) + 2 > size)
		return -EINVAL;
	bool login = inv->login || inv->mode == NS_MODE_LOGIN || inv->mode == NS_MODE_INTERACTIVE;
	buf[0] = '-';
	strcpy(buf + 1, base);
	ret_argv[0] = login ? buf : buf + 1;
	if (inv->mode == NS_MODE_COMMAND) {
		ret_argv[1] = "-c";
		ret_argv[2] = inv->command;
		ret_argv[3] = NULL;
	} else {
		ret_argv[1] = NULL;
	}
	return 0;
}
