/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_config_int.h — what the files of the config area share and no program
 * sees: the loaded config, the parse context (error sink and key→line map)
 * and the libconfuse layer. Not installed; included only from lib/. */
#ifndef NS_CONFIG_INT_H
#define NS_CONFIG_INT_H

#include <confuse.h>

#include "ns_config.h"

struct ns_config {
	cfg_t *cfg;
	char *path;
	struct ns_globals g;
};

/* Where one `key =` of the text is: its block (section name and title)
 * and its line. */
struct ns_keyline {
	char sec[16], title[64], key[64];
	int line;
};

/* One parse in progress: where its errors go and where its keys are.
 * Lives on the stack of the loader; see ns_confuse.c for how libconfuse's
 * error callback reaches it. */
struct ns_parse_ctx {
	const char *name;               /* the file, as each error line names it */
	struct ns_errlist *errs;        /* NULL: errors are only counted */
	int n_found;                    /* errors found, kept or not */
	struct ns_keyline *lines;       /* key→line map of the text last mapped */
	size_t n_lines, cap_lines;
	int key_error_line;             /* libconfuse's last error about one key: line, 0: none */
	char key_error_key[64];         /* ... and that key */
};

/* ---- ns_confuse.c: libconfuse, its workarounds, the error sink ---- */

/* Add one error line to P (counted even when dropped or P->errs is NULL). */
void ns_parse_error(struct ns_parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Line of the last `KEY =` in block SEC (NULL: top level) of the mapped
 * text, 0 when the text does not set it. */
int ns_parse_key_line(const struct ns_parse_ctx *p, const cfg_t *sec, const char *key);
/* "group \"x\": ", "default: " or "" (top level): how errors name SEC. */
const char *ns_confuse_label(const cfg_t *sec, char *buf, size_t size);
/* Parse TEXT with libconfuse into a cfg_t made by MAKE, with P's error
 * sink and the environment hidden; a statement libconfuse refuses is
 * reported, blanked and the text parsed again (ns_confuse.c, invariant 1).
 * 0 when a pass parsed: *ret_cfg holds it, P the key→line map of TEXT for
 * the loader's own errors, and P->n_found counts the errors so far (the
 * file is only good if the loader adds none and this is 0). -EINVAL when
 * no pass parsed (P holds why), -ENOMEM when MAKE fails at once. */
int ns_confuse_parse(struct ns_parse_ctx *p, const char *text, cfg_t *(*make)(void), cfg_t **ret_cfg);
/* Sort P's error lines by line number; free the key→line map. */
void ns_parse_done(struct ns_parse_ctx *p);

/* The steps of ns_confuse_parse, for tests. */
/* Record every `key =` of TEXT with its block in P's map (appended).
 * Returns the line of a block left open at the end of TEXT, or 0. */
int ns_confuse_map_lines(struct ns_parse_ctx *p, const char *text);
/* Blank every comment of TEXT in place, keeping newlines. Returns the line
 * of a quote left open at the end, 0 if none. */
int ns_confuse_blank_comments(char *text);
/* Blank the statement setting KEY on LINE, keeping newlines; false when
 * it is not there. */
bool ns_confuse_blank_key(char *text, int line, const char *key);

/* Has the file set OPT (a value, or an empty list)? */
static inline bool ns_opt_is_set(cfg_opt_t *opt)
{
	return opt && (cfg_opt_size(opt) > 0 || (opt->flags & CFGF_MODIFIED));
}

/* ---- ns_config.c ---- */

/* Convert one per-user key from OPT into P: the only place that decides
 * what a value means, used to validate while loading and to resolve. On
 * -EINVAL, WHY says what is wrong with the value. */
int ns_config_apply_policy_key(enum ns_key k, cfg_opt_t *opt, struct ns_policy *p, char *why,
			       size_t whysz);

#endif
