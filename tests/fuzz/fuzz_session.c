/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_session.c — session record text through ns_session_parse.
 *
 * Properties (the record is what nsctl and the next login trust):
 *  1. A refused record leaves *ret untouched.
 *  2. An accepted record has a valid user name, a veth that is empty or a
 *     valid interface name, owner_pid > 0, NUL-terminated strings.
 *  3. format then parse gives the same record, and formatting the result
 *     again gives the same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ns_session.h"

#define MAX_INPUT 8192   /* ns_session_read takes at most REC_MAX (4096) bytes */

static bool same_rec(const struct ns_session_rec *a, const struct ns_session_rec *b)
{
	return strcmp(a->user, b->user) == 0 && a->uid == b->uid && strcmp(a->netns, b->netns) == 0 &&
	       a->netns_dev == b->netns_dev && a->netns_ino == b->netns_ino &&
	       strcmp(a->veth, b->veth) == 0 && strcmp(a->address, b->address) == 0 &&
	       a->owner_pid == b->owner_pid && a->owner_start == b->owner_start && a->opened == b->opened;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text_max(data, size, MAX_INPUT);
	if (!text)
		return -1;

	struct ns_session_rec r, canary;
	memset(&r, 0xa5, sizeof(r));
	memcpy(&canary, &r, sizeof(r));
	int rc = ns_session_parse(text, &r);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL, "rc=%d", rc);
		FUZZ_CHECK(memcmp(&r, &canary, sizeof(r)) == 0, "refused record changed *ret");
		free(text);
		return 0;
	}
	FUZZ_CHECK(rc == 0, "rc=%d", rc);
	FUZZ_CHECK(memchr(r.user, 0, sizeof(r.user)) && ns_user_name_valid(r.user), "user");
	FUZZ_CHECK(memchr(r.netns, 0, sizeof(r.netns)) && memchr(r.address, 0, sizeof(r.address)) &&
		   memchr(r.veth, 0, sizeof(r.veth)), "unterminated string");
	FUZZ_CHECK(r.veth[0] == '\0' || ns_ifname_valid(r.veth), "veth \"%s\"", r.veth);
	FUZZ_CHECK(r.owner_pid > 0, "owner_pid %d", (int)r.owner_pid);

	char buf[4096], buf2[4096];
	int n = ns_session_format(&r, buf, sizeof(buf));
	FUZZ_CHECK(n > 0, "format of a parsed record failed: %d", n);
	struct ns_session_rec back;
	FUZZ_CHECK(ns_session_parse(buf, &back) == 0, "formatted record does not parse:\n%s", buf);
	FUZZ_CHECK(same_rec(&r, &back), "format/parse round trip changed the record:\n%s", buf);
	int n2 = ns_session_format(&back, buf2, sizeof(buf2));
	FUZZ_CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0, "format not stable");
	free(text);
	return 0;
}
