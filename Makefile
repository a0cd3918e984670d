# ns-shell — build, install, check, demo, bench.
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/ns-shell
PAMDIR     ?= /usr/lib/x86_64-linux-gnu/security
SYSCONFDIR ?= /etc
DESTDIR    ?=
VERSION    := 0.1.0

CC      ?= cc
PKGS    := libnl-3.0 libnl-route-3.0 libconfuse
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fcf-protection
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter \
           $(HARDEN) -fPIC -Iinclude $(PKG_CFLAGS) \
           -DNS_VERSION=\"$(VERSION)\" -DNS_CONF_PATH=\"$(SYSCONFDIR)/security/ns.conf\" \
           -DNS_DHCP_SCRIPT=\"$(LIBEXECDIR)/udhcpc.script\"
LDFLAGS += -Wl,-z,relro,-z,now -Wl,-z,noexecstack
PIE_LD  := -pie

B := build
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all install uninstall check unit integration clean deps demo bench bench-smoke
all: $(B)/libns.a $(B)/ns-shell $(B)/nsctl $(B)/pam_ns.so

$(B)/lib/%.o: lib/%.c $(wildcard include/*.h) | $(B)/lib
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<
$(B)/libns.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/ns-shell: shell/ns-shell.c $(B)/libns.a
	$(CC) $(CFLAGS) $(PIE_LD) $(LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS)
$(B)/nsctl: ctl/nsctl.c $(B)/libns.a
	$(CC) $(CFLAGS) $(PIE_LD) $(LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS)
$(B)/pam_ns.so: pam_module/pam_ns.c pam_module/pam_ns.map $(B)/libns.a
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -Wl,--version-script=pam_module/pam_ns.map \
	    -o $@ $< $(B)/libns.a $(PKG_LIBS) -lpam
$(B)/tests/%: tests/unit/%.c $(B)/libns.a | $(B)/tests
	$(CC) $(CFLAGS) $(PIE_LD) $(LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS) -lcmocka -lpam -ldl
$(B)/lib $(B)/tests $(B)/fault:
	mkdir -p $@

# Test-only copy of pam_ns.so with fault points (tests/integration crash tests).
FAULT_OBJ := $(LIB_SRC:lib/%.c=$(B)/fault/%.o)
$(B)/fault/%.o: lib/%.c $(wildcard include/*.h) | $(B)/fault
	@echo "  CC      $< (fault points)"
	@$(CC) $(CFLAGS) -DNS_FAULT_INJECTION -c -o $@ $<
$(B)/fault/pam_ns.so: pam_module/pam_ns.c pam_module/pam_ns.map $(FAULT_OBJ)
	$(CC) $(CFLAGS) -DNS_FAULT_INJECTION -shared $(LDFLAGS) -Wl,--version-script=pam_module/pam_ns.map \
	    -o $@ $< $(FAULT_OBJ) $(PKG_LIBS) -lpam

# Installs the Debian build and test packages that are missing (nothing if all are there).
DEPS := build-essential pkg-config libpam0g-dev libnl-3-dev libnl-route-3-dev libconfuse-dev \
        libcmocka-dev openssh-server openssh-client pamtester iproute2 python3 util-linux \
        login procps valgrind groff-base man-db strace udhcpc dnsmasq-base nftables curl \
        clang llvm
deps:
	@missing=""; for p in $(DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: all present"; fi

unit: $(UNIT_BIN) $(B)/pam_ns.so
	@rc=0; for t in $(UNIT_BIN); do $$t || rc=1; done; exit $$rc

integration: all $(B)/fault/pam_ns.so
	bash tests/integration/run.sh

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz
	$(MAKE) bench-smoke
	$(MAKE) integration

$(B)/ns-bench: bench/ns-bench.c $(B)/libns.a
	$(CC) $(CFLAGS) $(PIE_LD) $(LDFLAGS) -o $@ $< $(B)/libns.a $(PKG_LIBS) -lpam

# Login latency table (root; runs in a throwaway sandbox). QUICK=1: N = 0 and 100 only.
bench: deps
	$(MAKE) all $(B)/ns-bench
	bash bench/run.sh $(if $(QUICK),--quick)

# make check's smoke step: the quick table must be produced (timings are
# not asserted).
bench-smoke: all $(B)/ns-bench
	@bash bench/run.sh --quick > $(B)/bench-quick.txt 2>&1; rc=$$?; cat $(B)/bench-quick.txt; \
	if [ $$rc -eq 0 ] && grep -q "ratios of medians" $(B)/bench-quick.txt; then \
	    echo "bench-smoke: the table was produced"; else echo "bench-smoke: FAILED (no table)"; exit 1; fi

demo: deps
	$(MAKE) all
	bash tests/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 4755 -o root -g root $(B)/ns-shell $(DESTDIR)$(BINDIR)/ns-shell
	install -m 0755 $(B)/nsctl $(DESTDIR)$(SBINDIR)/nsctl
	install -m 0644 $(B)/pam_ns.so $(DESTDIR)$(PAMDIR)/pam_ns.so
	install -m 0755 conf/udhcpc.script $(DESTDIR)$(LIBEXECDIR)/udhcpc.script
	[ -e $(DESTDIR)$(SYSCONFDIR)/security/ns.conf ] || \
	    install -m 0644 -o root -g root conf/ns.conf $(DESTDIR)$(SYSCONFDIR)/security/ns.conf
	for m in man/*.5; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/ || true; done
	for m in man/*.8; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/ || true; done
	if [ -z "$(DESTDIR)" ]; then grep -qx '$(BINDIR)/ns-shell' /etc/shells || echo '$(BINDIR)/ns-shell' >> /etc/shells; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ns-shell $(DESTDIR)$(SBINDIR)/nsctl $(DESTDIR)$(PAMDIR)/pam_ns.so \
	    $(DESTDIR)$(LIBEXECDIR)/udhcpc.script
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	for m in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	for m in man/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done
	if [ -z "$(DESTDIR)" ] && [ -f /etc/shells ]; then sed -i '\|^$(BINDIR)/ns-shell$$|d' /etc/shells; fi

clean:
	rm -rf $(B)

# fuzz, fuzz-long, asan, valgrind (recipes in mk/sanitize.mk); last, so that
# `all` stays the default goal.
include mk/sanitize.mk
