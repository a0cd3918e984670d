# SPDX-License-Identifier: GPL-2.0-or-later
# mk/sanitize.mk — fuzzing and sanitizer runs. Included at the end of the
# Makefile: it uses B, ALL_CFLAGS, PKG_LIBS, LIB_SRC, UNIT_SRC and UNIT_BIN, and
# `all` must stay the default goal.
#
#   make fuzz       each libFuzzer target for FUZZ_SECS (20) s: part of check
#   make fuzz-long  the same for SECS (1800) s each, by hand; FUZZ_JOBS=2
#                   runs two targets at once, FUZZ_TARGETS="config lease"
#                   picks some
#   make asan       the unit tests built with ASan+UBSan into build/asan/
#                   (ASAN_CC, default $(CC)) and run; any report fails
#   make valgrind   build/tests/* under memcheck; any error or definite
#                   leak fails
#
# The library is compiled again for each instrumented build (build/fuzz/lib,
# build/asan/lib); libconfuse and libnl come from the system, uninstrumented.
# Crashes land in build/fuzz/crashes/, the growing corpus in
# build/fuzz/corpus/; an input worth keeping after a fix goes to
# tests/fuzz/regress/TARGET/ and is replayed on every run.

FUZZ_CC      ?= clang
ASAN_CC      ?= $(CC)
FUZZ_SECS    ?= 20
SECS         ?= 1800
FUZZ_JOBS    ?= 1
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# The project's flags minus optimisation and _FORTIFY_SOURCE (its checked
# wrappers hide accesses from ASan) and -Werror (warnings are the normal
# build's gate; instrumented builds draw false positives from gcc).
# Clang wants confuse_errfunc's libconfuse-supplied format annotated.
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS  = $(filter-out -O% -D_FORTIFY_SOURCE=% -Werror,$(ALL_CFLAGS)) -O1 -g \
              -Wno-format-nonliteral $(SAN_FLAGS)
SAN_ENV    := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

FZ := $(B)/fuzz
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=$(FZ)/lib/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)

AS := $(B)/asan
ASAN_LIB_OBJ  := $(LIB_SRC:lib/%.c=$(AS)/lib/%.o)
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(AS)/tests/%)

.PHONY: fuzz fuzz-long asan valgrind

$(FZ)/lib $(AS)/lib $(AS)/tests:
	mkdir -p $@

$(FZ)/lib/%.o: lib/%.c $(wildcard include/*.h) | $(FZ)/lib
	@echo "  CC      $< (fuzz)"
	@$(FUZZ_CC) $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FZ)/libns.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
# (libFuzzer's entry point is defined without a prior declaration)
$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FZ)/libns.a
	$(FUZZ_CC) $(SAN_CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(FZ)/libns.a $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	bash tests/fuzz/run.sh -b $(FZ) -t $(FUZZ_SECS) -j $(FUZZ_JOBS) $(FUZZ_TARGETS)
fuzz-long: $(FUZZ_BIN)
	bash tests/fuzz/run.sh -b $(FZ) -t $(SECS) -j $(FUZZ_JOBS) $(FUZZ_TARGETS)

$(AS)/lib/%.o: lib/%.c $(wildcard include/*.h) | $(AS)/lib
	@echo "  CC      $< (asan)"
	@$(ASAN_CC) $(SAN_CFLAGS) -c -o $@ $<
$(AS)/libns.a: $(ASAN_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(AS)/tests/%: tests/unit/%.c $(AS)/libns.a | $(AS)/tests
	$(ASAN_CC) $(SAN_CFLAGS) -o $@ $< $(AS)/libns.a $(PKG_LIBS) -lcmocka -lpam -ldl
# test_pam loads the module next to its own directory: build/asan/pam_ns.so.
$(AS)/pam_ns.so: pam_module/pam_ns.c pam_module/pam_ns.map $(AS)/libns.a
	$(ASAN_CC) $(SAN_CFLAGS) -shared -Wl,--version-script=pam_module/pam_ns.map \
	    -o $@ $< $(AS)/libns.a $(PKG_LIBS) -lpam

asan: $(ASAN_UNIT_BIN) $(AS)/pam_ns.so
	@rc=0; for t in $(ASAN_UNIT_BIN); do \
	    echo "  ASAN    $$t"; $(SAN_ENV) $$t || { echo "FAIL $$t (exit $$?)"; rc=1; }; \
	done; exit $$rc

valgrind: $(UNIT_BIN) $(B)/pam_ns.so
	@command -v valgrind >/dev/null || { echo "valgrind: not installed (make deps)"; exit 1; }
	@rc=0; for t in $(UNIT_BIN); do \
	    echo "  VALGRIND $$t"; \
	    valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	        --track-origins=yes $$t || { echo "FAIL $$t under valgrind (exit $$?)"; rc=1; }; \
	done; exit $$rc
