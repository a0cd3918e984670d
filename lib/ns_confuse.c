/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_confuse.c — libconfuse, and what it takes to get every error of an
 * ns.conf out of it with the right line. The rest of the loader sees
 * ns_confuse_parse() and the error sink; every libconfuse quirk is here.
 *
 * Invariants, each with the libconfuse (3.3) behaviour it answers:
 *  1. Every error is reported, not only the first. libconfuse stops at the
 *     first error; when that error is about one key (unknown key, bad
 *     integer or boolean, given twice...), the statement setting that key
 *     is blanked and the text parsed again with a fresh cfg_t, at most
 *     NS_MAX_ERRS times; errors past that are counted as dropped.
 *  2. Every error names the line the admin wrote. libconfuse reads a token
 *     ahead, so its line counter points past the key when it complains
 *     about it, and past the block when the loader validates a value. Our
 *     own scan of the same text (ns_confuse_map_lines: comments, quotes,
 *     blocks, value lists) records the line of every `key =` with its
 *     block: a libconfuse error about KEY takes the last place KEY was set
 *     in that block at or before libconfuse's line; a value error takes
 *     the last place it was set at all.
 *  3. No value comes from the environment. libconfuse expands ${VAR} from
 *     environ: environ is an empty list for exactly the length of each
 *     cfg_parse_buf() call. Our scanners read ${...} as one token where
 *     libconfuse does (in a "..." string, and at the start of a token),
 *     quotes and newlines included, so they agree with it on what is a
 *     string and what is a comment.
 *  4. Comments cannot shift lines or break lists. libconfuse counts the
 *     newline ending a comment more than once (its line numbers drift after
 *     each comment) and refuses a comment inside a value list: every
 *     comment is blanked before each pass.
 *  5. Blanking (comments, a statement in error) only turns characters into
 *     spaces and keeps every newline, so the lines of the text parsed in
 *     any pass are the lines of the file.
 *  6. A text cut short is refused, never half-parsed. A "..." left open at
 *     the end is taken by libconfuse for the end of the file, without an
 *     error, and its global lexer stays inside the string, so the next
 *     cfg_init() in the process aborts on its own defaults: the text is
 *     refused before libconfuse sees it. A block left open (no '}') is
 *     accepted by libconfuse: our scan reports it.
 *  7. One piece of file-scope state: libconfuse's error callback gets a
 *     cfg_t and no user pointer, so `current` (thread-local) points at the
 *     parse context for the length of one cfg_parse_buf() call and is put
 *     back right after. An error reported outside a parse is dropped. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ns_config_int.h"

static __thread struct ns_parse_ctx *current;

/* ---- the error sink ---- */

static void add_errorv(struct ns_parse_ctx *p, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void add_errorv(struct ns_parse_ctx *p, const char *fmt, va_list ap)
{
	p->n_found++;
	if (!p->errs)
		return;
	if (p->errs->n >= NS_MAX_ERRS) {
		p->errs->dropped++;
		return;
	}
	vsnprintf(p->errs->line[p->errs->n++], sizeof(p->errs->line[0]), fmt, ap);
}

void ns_parse_error(struct ns_parse_ctx *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_errorv(p, fmt, ap);
	va_end(ap);
}

/* Error lines start "NAME:LINE:"; others (NAME: cannot parse) sort first. */
static int cmp_err_line(const void *a, const void *b, void *name_arg)
{
	const char *name = name_arg;
	size_t skip = strlen(name) + 1;
	long la = strncmp(a, name, skip - 1) == 0 ? strtol((const char *)a + skip, NULL, 10) : 0;
	long lb = strncmp(b, name, skip - 1) == 0 ? strtol((const char *)b + skip, NULL, 10) : 0;
	return (la > lb) - (la < lb);
}

void ns_parse_done(struct ns_parse_ctx *p)
{
	/* stable enough: lines are distinct or already in order */
	if (p->errs && p->errs->n > 1)
		qsort_r(p->errs->line, p->errs->n, sizeof(p->errs->line[0]), cmp_err_line, (void *)p->name);
	free(p->lines);
	p->lines = NULL;
	p->n_lines = p->cap_lines = 0;
}

const char *ns_confuse_label(const cfg_t *sec, char *buf, size_t size)
{
	if (sec && sec->title)
		snprintf(buf, size, "%s \"%s\": ", sec->name, sec->title);
	else if (sec && sec->name && strcmp(sec->name, "root") != 0)
		snprintf(buf, size, "%s: ", sec->name);
	else
		buf[0] = '\0';
	return buf;
}

/* ---- the token scanner (invariants 2, 3) ---- */

struct tok {
	char kind;            /* 'w' word, 's' string, or the punctuation itself */
	const char *p;
	size_t len;
	int line;
};

/* OUT[*N] = T when there is an OUT (a first pass only counts). */
static void put(struct tok *out, size_t *n, struct tok t)
{
	if (out)
		out[*n] = t;
	(*n)++;
}

/* The tokens of T into OUT (at most MAX), or only their number (OUT NULL). */
static size_t scan_tokens(const char *t, struct tok *out, size_t max)
{
	size_t n = 0;
	int line = 1;
	while (*t && n < max) {
		if (*t == '\n') {
			line++;
			t++;
		} else if (isspace((unsigned char)*t)) {
			t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			while (*t && *t != '\n')
				t++;
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				line += *t == '\n';
			t += *t ? 2 : 0;
		} else if (*t == '"' || *t == '\'') {
			char q = *t;
			const char *b = ++t;
			int l0 = line;
			for (; *t && *t != q; t++) {
				if (*t == '\\' && t[1])
					t++;
				line += *t == '\n';
			}
			put(out, &n, (struct tok){ 's', b, (size_t)(t - b), l0 });
			t += *t ? 1 : 0;
		} else if (isalnum((unsigned char)*t) || *t == '_' || *t == '-' || *t == '.' || *t == '/') {
			const char *b = t;
			while (*t && (isalnum((unsigned char)*t) || strchr("_-./:%$", *t)))
				t++;
			put(out, &n, (struct tok){ 'w', b, (size_t)(t - b), line });
		} else {
			put(out, &n, (struct tok){ *t, t, 1, line });
			t += (t[0] == '+' && t[1] == '=') ? 2 : 1;
		}
	}
	return n;
}

/* The tokens of TEXT in one allocation of just their number (counted
 * first: one per byte, the bound, would make a 9 kB file with comments a
 * 300 kB allocation); NULL when out of memory. */
static struct tok *tokens_of(const char *text, size_t *ret_n)
{
	size_t max = scan_tokens(text, NULL, SIZE_MAX) + 1;
	struct tok *tk = calloc(max, sizeof(*tk));
	if (tk)
		*ret_n = scan_tokens(text, tk, max);
	return tk;
}

/* ---- the key→line map (invariant 2) ---- */

static void remember_line(struct ns_parse_ctx *p, const char *sec, const char *title, const struct tok *key)
{
	if (p->n_lines == p->cap_lines) {
		size_t cap = p->cap_lines ? p->cap_lines * 2 : 64;
		struct ns_keyline *l = realloc(p->lines, cap * sizeof(*l));
		if (!l)
			return;
		p->lines = l;
		p->cap_lines = cap;
	}
	struct ns_keyline *r = &p->lines[p->n_lines++];
	snprintf(r->sec, sizeof(r->sec), "%s", sec);
	snprintf(r->title, sizeof(r->title), "%s", title);
	snprintf(r->key, sizeof(r->key), "%.*s", (int)key->len, key->p);
	r->line = key->line;
}

/* Does a block start at tk[i]: `name {` or `name "title" {`? */
static bool block_starts(const struct tok *tk, size_t i, size_t n)
{
	return tk[i].kind == 'w' && i + 1 < n &&
	       (tk[i + 1].kind == '{' || (tk[i + 1].kind == 's' && i + 2 < n && tk[i + 2].kind == '{'));
}

int ns_confuse_map_lines(struct ns_parse_ctx *p, const char *text)
{
	int open_line = 0, depth = 0;
	size_t n = 0;
	_cleanup_free_ struct tok *tk = tokens_of(text, &n);
	if (!tk)
		return 0;
	char sec[16] = "root", title[64] = "";
	for (size_t i = 0; i < n; i++) {
		if (tk[i].kind == 'w' && i + 1 < n && (tk[i + 1].kind == '=' || tk[i + 1].kind == '+')) {
			remember_line(p, sec, title, &tk[i]);
			i++;
			if (i + 1 < n && tk[i + 1].kind == '{') {   /* a value list: skip it */
				while (i + 1 < n && tk[i + 1].kind != '}')
					i++;
				i++;
			}
		} else if (depth == 0 && block_starts(tk, i, n)) {
			snprintf(sec, sizeof(sec), "%.*s", (int)tk[i].len, tk[i].p);
			if (tk[i + 1].kind == 's')
				snprintf(title, sizeof(title), "%.*s", (int)tk[i + 1].len, tk[i + 1].p);
			else
				title[0] = '\0';
			depth = 1;
			open_line = tk[i].line;
			i += tk[i + 1].kind == 's' ? 2 : 1;
		} else if (tk[i].kind == '}' && depth > 0) {
			depth = 0;
			snprintf(sec, sizeof(sec), "root");
			title[0] = '\0';
		}
	}
	return depth > 0 ? open_line : 0;
}

static bool same_block(const struct ns_keyline *l, const char *name, const char *title, const char *key)
{
	return strcmp(l->key, key) == 0 && strcmp(l->sec, name) == 0 && strcmp(l->title, title) == 0;
}

int ns_parse_key_line(const struct ns_parse_ctx *p, const cfg_t *sec, const char *key)
{
	const char *name = sec ? sec->name : "root";
	const char *title = (sec && sec->title) ? sec->title : "";
	for (size_t i = p->n_lines; i-- > 0;)
		if (same_block(&p->lines[i], name, title, key))
			return p->lines[i].line;
	return 0;
}

/* The key's own line: the last place the map saw KEY in CFG's block at or
 * before LINE, where libconfuse (a token ahead) complained. */
static int key_line_before(const struct ns_parse_ctx *p, const cfg_t *cfg, const char *key, int line)
{
	const char *name = (cfg && cfg->name) ? cfg->name : "root";
	const char *title = (cfg && cfg->title) ? cfg->title : "";
	int best = 0;
	for (size_t i = 0; i < p->n_lines; i++)
		if (p->lines[i].line <= line && p->lines[i].line > best && same_block(&p->lines[i], name, title, key))
			best = p->lines[i].line;
	return best ? best : line;
}

/* ---- libconfuse's error callback (invariants 1, 2, 7) ---- */

/* libconfuse's messages about one option, reworded to "key: what". */
static const struct {
	const char *fmt, *what;
} confuse_msgs[] = {
	{ "no such option '%s'", "unknown key" },
	{ "invalid integer value for option '%s'", "not an integer" },
	{ "integer value for option '%s' is out of range", "integer out of range" },
	{ "invalid boolean value for option '%s'", "not true or false" },
	{ "duplicate option '%s' not allowed", "given twice" },
	{ "missing equal sign after option '%s'", "missing '='" },
	{ "attempt to append to non-list option '%s'", "not a list" },
};

/* An error about one key: reported at the key's own line, and remembered
 * so that the re-parse loop can blank that statement. */
static void key_error(struct ns_parse_ctx *p, cfg_t *cfg, const char *key, const char *what)
{
	char label[100];
	int line = key_line_before(p, cfg, key, cfg ? cfg->line : 0);
	ns_parse_error(p, "%s:%d: %s%s: %s", p->name, line, ns_confuse_label(cfg, label, sizeof(label)),
		       key, what);
	p->key_error_line = line;
	snprintf(p->key_error_key, sizeof(p->key_error_key), "%s", key);
}

__attribute__((format(printf, 2, 0)))
static void confuse_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct ns_parse_ctx *p = current;
	char msg[200];
	if (!p)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(confuse_msgs); i++)
		if (strcmp(fmt, confuse_msgs[i].fmt) == 0) {
			key_error(p, cfg, va_arg(ap, const char *), confuse_msgs[i].what);
			return;
		}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ns_parse_error(p, "%s:%d: %s", p->name ? p->name : "config", cfg ? cfg->line : 0, msg);
}

/* ---- blanking (invariants 1, 3, 4, 5, 6) ---- */

/* The last token of the statement starting at tk[i]: `key = value`,
 * `key = {list}`, `name "title" {block}` or `name {block}`. */
static size_t statement_end(const struct tok *tk, size_t i, size_t n)
{
	size_t j = i;
	if (j + 1 < n && (tk[j + 1].kind == '=' || tk[j + 1].kind == '+'))
		j += 2;
	else if (j + 1 < n && tk[j + 1].kind == 's' && j + 2 < n && tk[j + 2].kind == '{')
		j += 2;
	else if (j + 1 < n && tk[j + 1].kind == '{')
		j += 1;
	if (j < n && tk[j].kind == '{') {
		for (int depth = 0; j < n; j++) {
			depth += tk[j].kind == '{';
			depth -= tk[j].kind == '}';
			if (depth == 0)
				break;
		}
	}
	return j >= n ? n - 1 : j;
}

bool ns_confuse_blank_key(char *text, int line, const char *key)
{
	size_t n = 0, kl = strlen(key), i;
	_cleanup_free_ struct tok *tk = tokens_of(text, &n);
	if (!tk)
		return false;
	for (i = 0; i < n; i++)
		if (tk[i].kind == 'w' && tk[i].line == line && tk[i].len == kl && memcmp(tk[i].p, key, kl) == 0)
			break;
	if (i == n)
		return false;
	size_t j = statement_end(tk, i, n);
	char *end = (char *)tk[j].p + tk[j].len + (tk[j].kind == 's' ? 1 : 0);
	for (char *q = (char *)tk[i].p; q < end && *q; q++)
		if (*q != '\n')
			*q = ' ';
	return true;
}

/* Where a ${...} starting at T ends (libconfuse reads it as one token,
 * quotes and newlines included), or NULL when T does not start one. */
static const char *env_ref_end(const char *t, bool token_start)
{
	if (t[0] != '$' || t[1] != '{' || !token_start)
		return NULL;
	const char *e = strchr(t + 2, '}');
	return e ? e + 1 : NULL;
}

/* Step over the quoted string at *T (its opening quote), counting lines.
 * Returns false when the text ends inside it. */
static bool skip_string(char **t, int *line)
{
	const char *e;
	char q = *(*t)++;
	while (**t && **t != q) {
		if (q == '"' && (e = env_ref_end(*t, true))) {
			for (; *t < e; (*t)++)
				*line += **t == '\n';
			continue;
		}
		if (**t == '\\' && (*t)[1])
			(*t)++;
		*line += *(*t)++ == '\n';
	}
	if (!**t)
		return false;
	(*t)++;
	return true;
}

/* Blank the comment at *T ('#', "//" or a C comment), keeping newlines. */
static void blank_comment(char **t, int *line)
{
	char *c = *t;
	if (*c == '#' || c[1] == '/') {
		for (; *c && *c != '\n'; c++)
			*c = ' ';
	} else {
		c[0] = c[1] = ' ';
		for (c += 2; *c && !(c[0] == '*' && c[1] == '/'); c++)
			if (*c != '\n')
				*c = ' ';
			else
				(*line)++;
		if (*c) {
			c[0] = c[1] = ' ';
			c += 2;
		}
	}
	*t = c;
}

int ns_confuse_blank_comments(char *text)
{
	int line = 1;
	const char *e;
	for (char *t = text; *t;) {
		if ((e = env_ref_end(t, t == text || strchr(" \t\r\n\"'={}()+,*", t[-1])))) {
			for (; t < e; t++)
				line += *t == '\n';
		} else if (*t == '"' || *t == '\'') {
			int start = line;
			if (!skip_string(&t, &line))
				return start;
		} else if (*t == '#' || (t[0] == '/' && (t[1] == '/' || t[1] == '*'))) {
			blank_comment(&t, &line);
		} else {
			line += *t++ == '\n';
		}
	}
	return 0;
}

/* ---- the parse (invariants 1, 3, 6, 7) ---- */

static cfg_t *new_cfg(const struct ns_parse_ctx *p, cfg_t *(*make)(void))
{
	cfg_t *cfg = make();
	if (cfg) {
		cfg_set_error_function(cfg, confuse_errfunc);
		cfg->filename = strdup(p->name);
	}
	return cfg;
}

/* One cfg_parse_buf() with P as the error sink and no environment. */
static int parse_once(struct ns_parse_ctx *p, cfg_t *cfg, const char *text)
{
	extern char **environ;
	static char *empty_env[] = { NULL };
	char **saved_env = environ;
	struct ns_parse_ctx *saved_ctx = current;
	environ = empty_env;
	current = p;
	int pr = cfg_parse_buf(cfg, text);
	current = saved_ctx;
	environ = saved_env;
	return pr;
}

/* Parse WORK again and again, blanking the statement of each error about
 * one key, until it parses, fails otherwise, or NS_MAX_ERRS passes ran.
 * *CFG is replaced for each pass (NULL when out of memory). */
static int parse_passes(struct ns_parse_ctx *p, char *work, cfg_t *(*make)(void), cfg_t **cfg)
{
	int pr = CFG_PARSE_ERROR;
	for (int pass = 0; work && pass < NS_MAX_ERRS; pass++) {
		/* Every pass: blanking a key must not have left a quote open either. */
		int open_quote = ns_confuse_blank_comments(work);
		if (open_quote) {
			ns_parse_error(p, "%s:%d: string not closed before the end of the file", p->name,
				       open_quote);
			break;
		}
		if (pass > 0) {
			cfg_free(*cfg);
			if (!(*cfg = new_cfg(p, make)))
				break;
		}
		p->key_error_line = 0;
		p->n_lines = 0;
		ns_confuse_map_lines(p, work);
		pr = parse_once(p, *cfg, work);
		if (pr == CFG_SUCCESS || p->key_error_line <= 0 ||
		    !ns_confuse_blank_key(work, p->key_error_line, p->key_error_key))
			break;
		if (pass == NS_MAX_ERRS - 1 && p->errs)
			p->errs->dropped++;   /* more errors than we re-parse for */
	}
	return pr;
}

int ns_confuse_parse(struct ns_parse_ctx *p, const char *text, cfg_t *(*make)(void), cfg_t **ret_cfg)
{
	cfg_t *cfg = new_cfg(p, make);
	if (!cfg)
		return -ENOMEM;
	p->n_lines = 0;
	_cleanup_free_ char *work = strdup(text);
	int pr = parse_passes(p, work, make, &cfg);
	if (pr != CFG_SUCCESS) {
		if (p->n_found == 0)
			ns_parse_error(p, "%s: cannot parse", p->name);
		if (cfg)
			cfg_free(cfg);
		return -EINVAL;
	}
	/* The map of the file itself, for the loader's value errors. */
	p->n_lines = 0;
	int unclosed = ns_confuse_map_lines(p, text);
	if (unclosed)
		ns_parse_error(p, "%s:%d: block is not closed (missing '}')", p->name, unclosed);
	*ret_cfg = cfg;
	return 0;
}
