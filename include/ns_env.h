/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_env.h — the environment a login gets: an allow-list, built from nothing. */
#ifndef NS_ENV_H
#define NS_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* Is NAME=VALUE entry one that may pass to the user's shell? */
bool ns_env_allowed(const char *entry);

struct ns_env_ids {
	const char *home, *user, *shell, *path;
	const char *session;  /* NS_SHELL_SESSION, or NULL */
};

/* Build the shell's environment: allowed entries of SRC (a NULL-terminated
 * array; NS_SHELL_SESSION there is ignored) plus HOME, USER, LOGNAME,
 * SHELL, PATH and NS_SHELL_SESSION from IDS. *ret is one allocation,
 * freed with free(). */
int ns_env_build(char *const *src, const struct ns_env_ids *ids, char ***ret);

#endif
