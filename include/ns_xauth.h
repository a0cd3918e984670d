/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_xauth.h — X11 forwarding inside a login with a host name of its own. */
#ifndef NS_XAUTH_H
#define NS_XAUTH_H

/* sshd files the X11 cookie of a forwarded display under the host's name
 * (FamilyLocal "host/unix:N"); X clients in the login look it up under the
 * login's own UTS host name. In the Xauthority file at DIRFD/NAME (opened
 * without following symlinks, as the user, after the privilege drop),
 * append a copy of every FamilyLocal entry of FROM under TO that is not
 * there yet. Returns the number of entries added, or -errno. */
int ns_xauth_alias(int dirfd, const char *name, const char *from, const char *to);

#endif
