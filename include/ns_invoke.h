/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_invoke.h — how ns-shell was called, and the argv of the real shell. */
#ifndef NS_INVOKE_H
#define NS_INVOKE_H

#include <stdbool.h>

enum ns_mode {
	NS_MODE_LOGIN,     /* argv[0] starts with '-' */
	NS_MODE_COMMAND,   /* -c CMD, or ForceCommand with SSH_ORIGINAL_COMMAND */
	NS_MODE_INTERACTIVE, /* no arguments (ForceCommand without a command) */
	NS_MODE_CHECK, NS_MODE_VERSION, NS_MODE_HELP,
};

struct ns_invocation {
	enum ns_mode mode;
	bool login;          /* exec the shell as a login shell (argv[0] "-sh") */
	const char *command; /* for NS_MODE_COMMAND: passed verbatim */
};

/* Decide from argv (and SSH_ORIGINAL_COMMAND's value, or NULL). Returns
 * -EINVAL for anything that is not a documented invocation. */
int ns_invocation_parse(int argc, char *const *argv, const char *ssh_original_command,
			struct ns_invocation *ret);

/* argv of the real shell: {"-bash"} for a login, {"bash","-c",CMD} etc.
 * BUF holds argv[0]'s text. ret_argv must have room for 4 pointers. */
int ns_shell_argv(const char *shell, const struct ns_invocation *inv,
		  char *buf, size_t size, const char *ret_argv[4]);

#endif
