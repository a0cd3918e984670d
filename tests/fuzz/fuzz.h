/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A target checks properties, not only the absence of crashes: a broken
 * property calls FUZZ_CHECK, which prints what was expected and aborts, so
 * libFuzzer saves the input like any sanitizer report. */
#ifndef NS_FUZZ_H
#define NS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                    \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__,   \
				__LINE__, #cond);                                \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			abort();                                                 \
		}                                                                \
	} while (0)

/* The input as a C string, or NULL when it holds a NUL byte (the file
 * readers refuse those before parsing, so such inputs are not worth
 * keeping: the target returns -1 and libFuzzer drops them). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	if (memchr(data, 0, size))
		return NULL;
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* fuzz_text of an input of at most MAX bytes; NULL for a longer one too
 * (the target returns -1: not worth keeping). */
static inline char *fuzz_text_max(const uint8_t *data, size_t size, size_t max)
{
	return size > max ? NULL : fuzz_text(data, size);
}

/* Cut the input into NUL-separated C strings (at most MAX; the last field
 * runs to the end). Returns the count; free *blob afterwards. */
static inline size_t fuzz_fields(const uint8_t *data, size_t size, char **blob, char **out,
				 size_t max)
{
	char *b = malloc(size + 1);
	if (!b)
		abort();
	memcpy(b, data, size);
	b[size] = '\0';
	size_t n = 0;
	char *p = b, *end = b + size;
	while (n < max && p <= end) {
		out[n++] = p;
		p += strlen(p) + 1;
	}
	*blob = b;
	return n;
}

#endif
