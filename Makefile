# SPDX-License-Identifier: GPL-2.0-or-later
# ns-shell — build, install, check, demo, bench.
#
# The version lives here and only here: it is compiled into the programs
# (-DNS_VERSION, their --version) and written into the .TH line of each
# man page as it is installed.
VERSION    := 0.2.0

PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/ns-shell
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSCONFDIR ?= /etc
DESTDIR    ?=
# PAM modules: pam.pc's securedir where it exists, else Debian's multiarch
# directory (/usr/lib/x86_64-linux-gnu/security on amd64).
ifeq ($(origin PAMDIR),undefined)
PAMDIR := $(shell pkg-config --variable=securedir pam 2>/dev/null)
ifeq ($(PAMDIR),)
PAMDIR := /usr/lib/$(or $(shell gcc -print-multiarch 2>/dev/null),x86_64-linux-gnu)/security
endif
endif

CC      ?= cc
PKGS    := libnl-3.0 libnl-route-3.0 libconfuse libnftnl libmnl

# Goals that need no library (and `make check`/`demo`/`bench`, which run
# `make deps` first and build in a sub-make): no pkg-config check for them.
NO_LIB_GOALS := deps clean uninstall check demo bench bench-steps bench-kernel deb
ifneq ($(filter-out $(NO_LIB_GOALS),$(or $(MAKECMDGOALS),all)),)
PKG_MISSING := $(shell for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || echo $$p; done)
ifneq ($(strip $(PKG_MISSING)),)
$(error pkg-config cannot find $(strip $(PKG_MISSING)) (or pkg-config itself is missing): \
run "make deps" as root, which installs the Debian packages listed in DEPS, or install their -dev packages)
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
endif

# CFLAGS, CPPFLAGS and LDFLAGS are the packager's (dpkg-buildflags): they
# come after the project's own flags, so they win. WERROR is on by default
# (make check, CI); packagers build with `make WERROR=`.
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
WERROR   ?= -Werror
HARDEN  := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2) \
           -fstack-protector-strong -fstack-clash-protection -fcf-protection
NS_CPPFLAGS := -D_GNU_SOURCE -Iinclude \
           -DNS_VERSION=\"$(VERSION)\" -DNS_CONF_PATH=\"$(SYSCONFDIR)/security/ns.conf\" \
           -DNS_DHCP_SCRIPT=\"$(LIBEXECDIR)/udhcpc.script\"
NS_CFLAGS := -std=gnu11 -Wall -Wextra $(WERROR) -Wformat=2 -Wshadow -Wno-unused-parameter \
           -Wmissing-prototypes -Wstrict-prototypes $(HARDEN) -fPIC $(PKG_CFLAGS)
ALL_CFLAGS = $(NS_CPPFLAGS) $(CPPFLAGS) $(NS_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed $(LDFLAGS)
PIE_LD  := -pie
# Header dependencies: one .d file next to each output.
DEPFLAGS = -MMD -MP -MT $@ -MF $@.d

B := build
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
MAN_SRC := $(wildcard man/*.[0-9])
MAN_OUT := $(MAN_SRC:man/%=$(B)/man/%)
# What is compiled or written in from the variables above: a change of
# them (make install SYSCONFDIR=..., say) rebuilds whatever uses them.
PATHS_STAMP := $(B)/paths.stamp
PATHS_TEXT  := VERSION=$(VERSION) SYSCONFDIR=$(SYSCONFDIR) LIBEXECDIR=$(LIBEXECDIR)
# Owner flags for install: root:root when installing as root; a packager
# building unprivileged into DESTDIR sets ownership in the package.
INSTALL_OWNER := $(if $(filter 0,$(shell id -u)),-o root -g root)

.PHONY: all install uninstall check unit integration clean deps demo bench bench-smoke bench-steps bench-kernel bench-kernel-smoke deb FORCE
all: $(B)/libns.a $(B)/ns-shell $(B)/nsctl $(B)/pam_ns.so $(MAN_OUT)

# (`+`: kept up to date under make -n too, so a dry run shows only what
# really changed)
$(PATHS_STAMP): FORCE | $(B)
	+@[ "$$(cat $@ 2>/dev/null)" = '$(PATHS_TEXT)' ] || { echo "  PATHS   $(PATHS_TEXT)"; printf '%s\n' '$(PATHS_TEXT)' > $@; }

$(B)/lib/%.o: lib/%.c $(PATHS_STAMP) | $(B)/lib
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(B)/libns.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/ns-shell: shell/ns-shell.c $(B)/libns.a $(PATHS_STAMP)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(PIE_LD) $(ALL_LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS)
$(B)/nsctl: ctl/nsctl.c $(B)/libns.a $(PATHS_STAMP)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(PIE_LD) $(ALL_LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS)
$(B)/pam_ns.so: pam_module/pam_ns.c pam_module/pam_ns.map $(B)/libns.a $(PATHS_STAMP)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -shared $(ALL_LDFLAGS) -Wl,--version-script=pam_module/pam_ns.map \
	    -o $@ $< $(B)/libns.a $(PKG_LIBS) -lpam
$(B)/tests/%: tests/unit/%.c $(B)/libns.a | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(PIE_LD) $(ALL_LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS) -lcmocka -lpam -ldl
# Man pages as installed: the .TH line's "ns-shell X.Y.Z" set to VERSION.
$(B)/man/%: man/% $(PATHS_STAMP) | $(B)/man
	@echo "  MAN     $<"
	@sed 's/^\(\.TH .*"ns-shell \)[^"]*"/\1$(VERSION)"/' $< > $@.tmp && mv $@.tmp $@
$(B) $(B)/lib $(B)/tests $(B)/fault $(B)/man:
	mkdir -p $@

# Test-only copy of pam_ns.so with fault points (tests/integration crash tests).
FAULT_OBJ := $(LIB_SRC:lib/%.c=$(B)/fault/%.o)
$(B)/fault/%.o: lib/%.c $(PATHS_STAMP) | $(B)/fault
	@echo "  CC      $< (fault points)"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -DNS_FAULT_INJECTION -c -o $@ $<
$(B)/fault/pam_ns.so: pam_module/pam_ns.c pam_module/pam_ns.map $(FAULT_OBJ) $(PATHS_STAMP)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -DNS_FAULT_INJECTION -shared $(ALL_LDFLAGS) \
	    -Wl,--version-script=pam_module/pam_ns.map -o $@ $< $(FAULT_OBJ) $(PKG_LIBS) -lpam

# make deps (root): installs with apt-get the Debian packages below that are
# missing (nothing if all are there): build tools and -dev packages, and
# what the tests run (openssh-server, whose postinst makes host keys and,
# where an init system runs, starts sshd; pamtester, dnsmasq-base, ...).
# LDAP_DEPS (t-ldap.sh runs its own slapd and nslcd in the sandbox) go in
# preseeded, so that the host's nsswitch.conf stays as it is and slapd gets
# no database, without Recommends (libpam-ldapd would edit the PAM stacks),
# and a daemon their postinst started is stopped.
LDAP_DEPS := slapd ldap-utils nslcd libnss-ldapd
DEPS := build-essential pkg-config libpam0g-dev libnl-3-dev libnl-route-3-dev libconfuse-dev \
        libnftnl-dev libmnl-dev libcmocka-dev openssh-server openssh-client pamtester iproute2 python3 util-linux \
        login procps valgrind groff-base man-db strace udhcpc dnsmasq-base nftables curl \
        clang llvm debhelper dpkg-dev fakeroot lintian tmux xvfb xauth x11-utils mosh bird2 screen linux-perf \
        $(LDAP_DEPS)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq
deps:
	@missing=""; ldap=""; for p in $(DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" && continue; \
	    case " $(LDAP_DEPS) " in *" $$p "*) ldap="$$ldap $$p";; *) missing="$$missing $$p";; esac; \
	done; \
	if [ -n "$$missing$$ldap" ]; then \
	    echo "deps: installing$$missing$$ldap"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    { [ -z "$$missing" ] || $(APT_INSTALL) $$missing >/dev/null; } && \
	    { [ -z "$$ldap" ] || { printf '%s\n' 'libnss-ldapd libnss-ldapd/nsswitch multiselect' \
	        'slapd slapd/no_configuration boolean true' | debconf-set-selections && \
	      $(APT_INSTALL) --no-install-recommends $$ldap >/dev/null && \
	      { service nslcd stop; service slapd stop; true; } >/dev/null 2>&1; }; }; \
	else echo "deps: all present"; fi

unit: $(UNIT_BIN) $(B)/pam_ns.so
	@rc=0; for t in $(UNIT_BIN); do $$t || rc=1; done; exit $$rc

integration: all $(B)/fault/pam_ns.so $(B)/tests/pam-hold
	bash tests/integration/run.sh

# The scale test's holder of many real pam_ns sessions (not installed).
$(B)/tests/pam-hold: tests/integration/pam-hold.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(PIE_LD) $(ALL_LDFLAGS) -o $@ $< -lpam

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz
	$(MAKE) bench-smoke
	$(MAKE) bench-kernel-smoke
	$(MAKE) integration

$(B)/ns-bench: bench/ns-bench.c $(B)/libns.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(PIE_LD) $(ALL_LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS) -lpam

# Login latency table (root; runs in a throwaway sandbox). QUICK=1: N = 0 and 100 only.
# bench/run.sh keeps the tables in build/bench.txt and draws them in
# build/bench.svg (bench/plot.py).
bench: deps
	$(MAKE) all $(B)/ns-bench
	bash bench/run.sh $(if $(QUICK),--quick)

# Where open_session/close_session spend their time, step by step: the
# test build's fault points and ns_trace() points, timed (bench/steps.sh).
bench-steps: deps
	$(MAKE) all $(B)/fault/pam_ns.so
	bash bench/steps.sh

# What the kernel does of a login, call by call (perf; bench/kernel.sh):
# pam_ns's steps, and ns-shell next to unshare(1). perf comes with make deps.
bench-kernel: deps
	$(MAKE) all $(B)/fault/pam_ns.so $(B)/ns-bench
	bash bench/kernel.sh

# make check's smoke step of it: 3 runs each, both tables must come out.
bench-kernel-smoke: all $(B)/fault/pam_ns.so $(B)/ns-bench
	@bash bench/kernel.sh 3 > $(B)/bench-kernel.txt 2>&1; rc=$$?; grep -v '^ok ' $(B)/bench-kernel.txt; \
	if [ $$rc -eq 0 ] && grep -q '^  bookkeeping: ' $(B)/bench-kernel.txt && \
	    grep -q '^  ns-shell minus unshare, in the kernel' $(B)/bench-kernel.txt; then \
	    echo "bench-kernel-smoke: both tables were produced"; else echo "bench-kernel-smoke: FAILED"; exit 1; fi

# make check's smoke step: the quick table and its plot must be produced
# (timings are not asserted), the plot well-formed XML.
bench-smoke: all $(B)/ns-bench
	@rm -f $(B)/bench.svg; bash bench/run.sh --quick > $(B)/bench-quick.txt 2>&1; rc=$$?; cat $(B)/bench-quick.txt; \
	if [ $$rc -eq 0 ] && grep -q "ratios of medians" $(B)/bench-quick.txt; then \
	    echo "bench-smoke: the table was produced"; else echo "bench-smoke: FAILED (no table or no plot)"; exit 1; fi
	@if python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' $(B)/bench.svg; then \
	    echo "bench-smoke: $(B)/bench.svg is well-formed"; \
	else echo "bench-smoke: FAILED ($(B)/bench.svg missing or not well-formed XML)"; exit 1; fi

# The Debian package (debian/): dpkg-buildpackage -us -uc -b in a clean copy
# of the working tree (without build/ and .git) in build/deb/src; the .deb
# lands in build/deb/. Needs no root (Rules-Requires-Root: no) and checks
# that debian/changelog carries VERSION.
DEB := $(B)/deb
deb:
	@cv=$$(dpkg-parsechangelog -S Version) && [ "$${cv%-*}" = '$(VERSION)' ] || \
	    { echo "deb: debian/changelog has $$cv, the Makefile VERSION $(VERSION): dch -v $(VERSION)-1" >&2; exit 1; }
	rm -rf $(DEB)/src $(DEB)/*.deb $(DEB)/*.ddeb $(DEB)/*.buildinfo $(DEB)/*.changes
	mkdir -p $(DEB)/src
	tar -C . --exclude=./$(B) --exclude=./.git --exclude='*.o' -cf - . | tar -C $(DEB)/src -xf -
	cd $(DEB)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	@ls $(DEB)/*.deb

demo: deps
	$(MAKE) all
	bash tests/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(TMPFILESDIR)
	install -m 4755 $(INSTALL_OWNER) $(B)/ns-shell $(DESTDIR)$(BINDIR)/ns-shell
	install -m 0755 $(B)/nsctl $(DESTDIR)$(SBINDIR)/nsctl
	install -m 0644 $(B)/pam_ns.so $(DESTDIR)$(PAMDIR)/pam_ns.so
	install -m 0755 conf/udhcpc.script $(DESTDIR)$(LIBEXECDIR)/udhcpc.script
	install -m 0644 conf/tmpfiles.d/ns-shell.conf $(DESTDIR)$(TMPFILESDIR)/ns-shell.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/security/ns.conf ] || \
	    install -m 0644 $(INSTALL_OWNER) conf/ns.conf $(DESTDIR)$(SYSCONFDIR)/security/ns.conf
	for m in $(filter %.5,$(MAN_OUT)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for m in $(filter %.8,$(MAN_OUT)); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	if [ -z "$(DESTDIR)" ]; then grep -qx '$(BINDIR)/ns-shell' /etc/shells || echo '$(BINDIR)/ns-shell' >> /etc/shells; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ns-shell $(DESTDIR)$(SBINDIR)/nsctl $(DESTDIR)$(PAMDIR)/pam_ns.so \
	    $(DESTDIR)$(LIBEXECDIR)/udhcpc.script $(DESTDIR)$(TMPFILESDIR)/ns-shell.conf
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	for m in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	for m in man/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done
	if [ -z "$(DESTDIR)" ] && [ -f /etc/shells ]; then sed -i '\|^$(BINDIR)/ns-shell$$|d' /etc/shells; fi

clean:
	rm -rf $(B)

# Header dependencies recorded by -MMD (absent before the first build; not
# those of the package build in $(B)/deb).
-include $(shell find $(B) -path $(B)/deb -prune -o -type f -name '*.d' -print 2>/dev/null)

# fuzz, fuzz-long, asan, valgrind (recipes in mk/sanitize.mk); last, so that
# `all` stays the default goal.
include mk/sanitize.mk
