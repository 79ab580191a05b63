# faxpost top-level Makefile.
#
# Non-recursive: every folder describes itself in a `module.mk` that this file includes.
# A module.mk uses the templates below (LIBRARY, PROGRAM, UNIT_TEST) and may add to
# INTEGRATION_DIRS, BENCH_TARGETS, FUZZ_TARGETS. Objects go under $(BUILD)
# (default build/); `make SAN=1 BUILD=build/asan` builds everything under ASan+UBSan.
#
# Targets: all (default), check, unit, integration, run, stop, install, bench, fuzz,
# interop, clean.

CC      ?= cc
BUILD   ?= build
SAN     ?=
PREFIX  ?= /usr
DESTDIR ?=
PYTHON  ?= python3

PKGS_ALL := openssl libtiff-4 freetype2 poppler-glib libpng libjpeg libseccomp spandsp
CFLAGS_WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS_WARN) $(CFLAGS) -Ilib -MMD -MP
ALL_LDFLAGS := $(LDFLAGS)
ifeq ($(SAN),1)
ALL_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=address,undefined
endif

# pkg-config helpers: $(call pc_cflags,pkg) / $(call pc_libs,pkg)
pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)
CHECK_CFLAGS := $(call pc_cflags,check)
CHECK_LIBS   := $(call pc_libs,check)

.PHONY: all check unit unit-run asan-unit integration run stop install bench fuzz interop clean deps
all:

ALL_TARGETS :=
UNIT_TESTS :=
INTEGRATION_DIRS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=
INTEROP_TARGETS :=
INSTALL_LIBEXEC :=
INSTALL_SBIN :=

# $(call objs_of,SRCS)
objs_of = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# LIBRARY: $(eval $(call LIBRARY,name,srcs,extra-cflags))  ->  $(BUILD)/lib/libname.a
define LIBRARY
$(1)_LIB := $(BUILD)/lib/lib$(1).a
$(1)_OBJS := $$(call objs_of,$(2))
$$($(1)_OBJS): EXTRA_CFLAGS := $(3)
$$($(1)_LIB): $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
ALL_TARGETS += $$($(1)_LIB)
endef

# PROGRAM: $(eval $(call PROGRAM,name,dir,srcs,internal-libs,ldlibs,extra-cflags))
# dir is bin (the faxpost command) or libexec (daemons); internal-libs highest layer first.
define PROGRAM
$(1)_BIN := $(BUILD)/$(2)/$(1)
$(1)_OBJS := $$(call objs_of,$(3))
$$($(1)_OBJS): EXTRA_CFLAGS := $(6)
$$($(1)_BIN): $$($(1)_OBJS) $$(foreach l,$(4),$$($$(l)_LIB))
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJS) $$(foreach l,$(4),$$($$(l)_LIB)) $(5)
ALL_TARGETS += $$($(1)_BIN)
$(1): $$($(1)_BIN)
.PHONY: $(1)
ifeq ($(2),libexec)
INSTALL_LIBEXEC += $$($(1)_BIN)
endif
endef

# UNIT_TEST: $(eval $(call UNIT_TEST,name,srcs,internal-libs,ldlibs))  (Check tests)
define UNIT_TEST
$(1)_BIN := $(BUILD)/tests/$(1)
$(1)_OBJS := $$(call objs_of,$(2))
$$($(1)_OBJS): EXTRA_CFLAGS := $$(CHECK_CFLAGS)
$$($(1)_BIN): $$($(1)_OBJS) $$(foreach l,$(3),$$($$(l)_LIB))
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJS) $$(foreach l,$(3),$$($$(l)_LIB)) $(4) $$(CHECK_LIBS)
UNIT_TESTS += $$($(1)_BIN)
endef

# Modules: libraries first (lower layers first), then programs, then tests.
MODULES := $(sort $(wildcard lib/*/module.mk)) \
	$(sort $(filter-out lib/% tests/% bench/%,$(wildcard */module.mk))) \
	$(sort $(wildcard tests/*/module.mk)) $(sort $(wildcard bench/module.mk bench/*/module.mk))
include $(MODULES)

all: $(ALL_TARGETS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@if [ "$$(id -u)" = 0 ]; then scripts/install-deps; else scripts/install-deps || true; fi

# --- tests -------------------------------------------------------------------------
# make check: deps, build, unit tests, unit tests again under ASan+UBSan, integration
# suites. Their full output is shown (and kept in $(BUILD)/*-summary.txt); the last
# lines are the runners' summaries (Check-style total, then "N passed, M failed") so
# that CI can count. (POSIX sh has no pipefail: a failure is noted in a marker file.)
check: deps
	@$(MAKE) --no-print-directory all $(FUZZ_TARGETS)
	@$(MAKE) --no-print-directory asan-unit-build
	@rm -f $(BUILD)/unit.failed $(BUILD)/integration.failed; \
	{ scripts/run-unit $(BUILD) $(BUILD)/asan 2>&1 || touch $(BUILD)/unit.failed; } \
		| tee $(BUILD)/unit-summary.txt; \
	{ $(PYTHON) tests/integration/run.py --build $(BUILD) $(INTEGRATION_DIRS) 2>&1 || \
		touch $(BUILD)/integration.failed; } | tee $(BUILD)/integration-summary.txt; \
	echo; echo "== summary =="; tail -n 1 $(BUILD)/unit-summary.txt; tail -n 1 $(BUILD)/integration-summary.txt; \
	rc=0; \
	if [ -e $(BUILD)/unit.failed ] || [ -e $(BUILD)/integration.failed ]; then rc=1; fi; \
	exit $$rc

unit: all
	@scripts/run-unit $(BUILD)

asan-unit-build:
	@$(MAKE) --no-print-directory SAN=1 BUILD=$(BUILD)/asan unit-build

unit-build: $(UNIT_TESTS)

integration: all
	@$(PYTHON) tests/integration/run.py --build $(BUILD) $(INTEGRATION_DIRS)

# --- run a private instance -------------------------------------------------------
# A program that does not build (work in progress elsewhere) does not stop the dev
# instance: make-run leaves the services whose program is missing switched off.
run: deps
	@$(MAKE) --no-print-directory -k all || \
		echo "make run: warning: not everything built (above); those services stay off" >&2
	@scripts/make-run $(BUILD)

stop:
	@if [ -x $(BUILD)/bin/faxpost ] && [ -f run/etc/main.cf ]; then $(BUILD)/bin/faxpost -c run/etc stop; fi
	@if [ -f run/vmodem/vmodem.pid ]; then tests/vmodem/vmodem-run stop run; echo "faxpost: virtual modem line stopped"; fi

# --- install ----------------------------------------------------------------------
install: all
	install -d $(DESTDIR)/etc/faxpost $(DESTDIR)$(PREFIX)/libexec/faxpost \
		$(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/var/spool/faxpost
	install -m 755 $(INSTALL_LIBEXEC) $(DESTDIR)$(PREFIX)/libexec/faxpost/
	install -m 755 $(BUILD)/bin/faxpost $(DESTDIR)$(PREFIX)/sbin/faxpost
	@# configuration files are installed once, never over the admin's copies
	for f in etc/*; do [ -f "$$f" ] || continue; b=$$(basename $$f); \
		[ -e $(DESTDIR)/etc/faxpost/$$b ] && continue; \
		install -m 644 $$f $(DESTDIR)/etc/faxpost/$$b; \
		[ $$b = main.cf ] && sed -i 's|^daemon_directory = .*|daemon_directory = $(PREFIX)/libexec/faxpost|' \
			$(DESTDIR)/etc/faxpost/main.cf; done; true

# --- long runs --------------------------------------------------------------------
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	@for b in $(BENCH_SCRIPTS); do echo "== $$b"; $$b $(BUILD) || exit 1; done

# make fuzz: build every harness (tests/fuzz/module.mk) and run them FUZZ_TIME seconds
# in all (default 600), FUZZ_JOBS at a time; crash reproducers are replayed first.
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@scripts/run-fuzz -T $(FUZZ_TIME) -j $(FUZZ_JOBS) $(BUILD)

interop: deps
	@$(MAKE) --no-print-directory all
	@$(PYTHON) tests/integration/run.py --build $(BUILD) --interop $(INTEGRATION_DIRS)

clean:
	rm -rf $(BUILD)
