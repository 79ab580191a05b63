# tests/fuzz: libFuzzer harnesses, one per tests/fuzz/fuzz_NAME.c -> $(BUILD)/fuzz/fuzz_NAME.
# Shared by the mail-level harnesses (queue, IPC, addresses, config, POP3 client, smtpd
# engine, SMTP replies, tables) and the codec's (T.4/T.6, TIFF, RFC 2533 feature sets).
#
# Built with clang whatever CC is (CC=clang for these rules only), with
# -fsanitize=fuzzer,address,undefined. The libraries a harness needs are compiled again
# from their sources with -fsanitize=fuzzer-no-link,address,undefined into
# $(BUILD)/fuzz/obj and archived as $(BUILD)/fuzz/lib/libNAME.a (the normal build's
# objects are never reused: they lack the coverage instrumentation and may come from gcc).
#
# Link list, per harness. A harness names what it links in its opening comment:
#
#     FUZZ_LIBS: smtpdproto mail util      internal libraries (LIBRARY names), highest
#                                          layer first; default when absent:
#                                          codec mail util
#     FUZZ_SRCS: smtp/reply.c              extra sources outside any library
#     FUZZ_LDLIBS: -lfoo                   extra system libraries
#
# (one tag per line, the value ends at the end of the line or at a '*'). For every
# library NAME, $(NAME_UPPER)_LDLIBS and $(NAME_UPPER)_CFLAGS from its module.mk are used
# (MAIL_LDLIBS, CODEC_LDLIBS, CODEC_CFLAGS ...). A module.mk may instead set
# fuzz_NAME_LIBS / fuzz_NAME_SRCS before this file is read (tests/ comes after lib/ and
# the programs in the top Makefile's include order). So a new harness needs no edit
# here: drop tests/fuzz/fuzz_NAME.c (and its seeds) in.
#
# FUZZ_TARGETS gets every harness binary (make check builds them).
# Seeds: tests/fuzz/corpus/fuzz_NAME/ or tests/fuzz/corpus/NAME/ (small, hand-made
# valid inputs, committed). Crash reproducers: tests/fuzz/crashes/fuzz_NAME/ (replayed
# by scripts/run-fuzz). Run: `make fuzz` (scripts/run-fuzz, FUZZ_TIME = 600 seconds
# in all, 2 harnesses at a time); `make check` runs each harness a few seconds
# (tests/integration/test_fuzz_short.py). See docs/fuzzing.md.

FUZZ_CC := clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_TIME ?= 600
FUZZ_JOBS ?= 2
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS_WARN) -O1 -g -Ilib -I. -MMD -MP
# Library code is someone else's: a clang-only warning there must not stop fuzzing.
FUZZ_LIB_CFLAGS := $(filter-out -Werror,$(FUZZ_BASE_CFLAGS)) -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_MAIN_CFLAGS := $(FUZZ_BASE_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN)

fuzz_uc = $(subst z,Z,$(subst y,Y,$(subst x,X,$(subst w,W,$(subst v,V,$(subst u,U,$(subst t,T,$(subst s,S,$(subst r,R,$(subst q,Q,$(subst p,P,$(subst o,O,$(subst n,N,$(subst m,M,$(subst l,L,$(subst k,K,$(subst j,J,$(subst i,I,$(subst h,H,$(subst g,G,$(subst f,F,$(subst e,E,$(subst d,D,$(subst c,C,$(subst b,B,$(subst a,A,$(1)))))))))))))))))))))))))))
# Every tag of every harness in one awk run (a shell per tag would slow down every
# make): words "fuzz_NAME.FUZZ_TAG=v1,v2" (first occurrence of a tag per file wins).
fuzz_comma := ,
FUZZ_TAG_WORDS := $(shell awk 'match($$0, /FUZZ_(LIBS|SRCS|LDLIBS|ARGS):/) { \
	t = substr($$0, RSTART, RLENGTH - 1); v = substr($$0, RSTART + RLENGTH); \
	sub(/[*].*/, "", v); gsub(/^[ \t]+|[ \t]+$$/, "", v); gsub(/[ \t]+/, ",", v); \
	n = FILENAME; sub(/.*\//, "", n); sub(/[.]c$$/, "", n); \
	if (!seen[n "." t]++) print n "." t "=" v }' $(wildcard tests/fuzz/fuzz_*.c) /dev/null)
# $(call fuzz_tag,fuzz_NAME,FUZZ_TAG): the tag's words
fuzz_tag = $(subst $(fuzz_comma), ,$(patsubst $(1).$(2)=%,%,$(filter $(1).$(2)=%,$(FUZZ_TAG_WORDS))))
fuzz_lib_srcs = $(patsubst $(BUILD)/obj/%.o,%.c,$($(1)_OBJS))
fuzz_objs_of = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))

# $(call FUZZ_LIBRARY,lib): $(FUZZ_DIR)/lib/libLIB.a from the library's sources,
# with the library's own extra cflags (an archive, as in the normal build, so that a
# harness pulls in only the objects it uses). Defined once per library.
define FUZZ_LIBRARY
ifndef FUZZ_LIB_DONE_$(1)
FUZZ_LIB_DONE_$(1) := 1
$(1)_FUZZ_LIB := $(FUZZ_DIR)/lib/lib$(1).a
$(1)_FUZZ_LIB_OBJS := $$(call fuzz_objs_of,$$(call fuzz_lib_srcs,$(1)))
$$($(1)_FUZZ_LIB_OBJS): FUZZ_EXTRA_CFLAGS := $$($$(call fuzz_uc,$(1))_CFLAGS)
$$($(1)_FUZZ_LIB): $$($(1)_FUZZ_LIB_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endif
endef

# $(call FUZZ_HARNESS,fuzz_NAME,tests/fuzz/fuzz_NAME.c)
define FUZZ_HARNESS
$(1)_FUZZ_LIBS := $$(or $$($(1)_LIBS),$$(call fuzz_tag,$(1),FUZZ_LIBS),codec mail util)
$(1)_FUZZ_SRCS := $$(or $$($(1)_SRCS),$$(call fuzz_tag,$(1),FUZZ_SRCS))
$(1)_FUZZ_LDLIBS := $$(foreach l,$$($(1)_FUZZ_LIBS),$$($$(call fuzz_uc,$$(l))_LDLIBS)) \
	$$(call fuzz_tag,$(1),FUZZ_LDLIBS) -lm
$(1)_FUZZ_OBJS := $$(call fuzz_objs_of,$(2) $$($(1)_FUZZ_SRCS))
$$(foreach l,$$($(1)_FUZZ_LIBS),$$(eval $$(call FUZZ_LIBRARY,$$(l))))
$(FUZZ_DIR)/$(1): $$($(1)_FUZZ_OBJS) $$(foreach l,$$($(1)_FUZZ_LIBS),$$($$(l)_FUZZ_LIB))
	@mkdir -p $$(@D)
	$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -o $$@ $$^ $$($(1)_FUZZ_LDLIBS)
FUZZ_TARGETS += $(FUZZ_DIR)/$(1)
$(1): $(FUZZ_DIR)/$(1)
.PHONY: $(1)
endef

$(foreach f,$(sort $(wildcard tests/fuzz/fuzz_*.c)),\
  $(eval $(call FUZZ_HARNESS,$(basename $(notdir $(f))),$(f))))

# Harness sources: warnings are errors (they are ours). The shorter stem wins in GNU
# make, so this rule beats the library rule below for tests/fuzz/*.c.
$(FUZZ_DIR)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_MAIN_CFLAGS) $(CODEC_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) $(FUZZ_EXTRA_CFLAGS) -c -o $@ $<

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

# The codec's own entry points (kept from its first module.mk): build its three
# harnesses; run them for FUZZ_TIME seconds in all.
CODEC_FUZZERS := $(filter $(addprefix $(FUZZ_DIR)/,fuzz_t4 fuzz_tiff fuzz_featureset),$(FUZZ_TARGETS))
.PHONY: codec-fuzzers codec-fuzz-run fuzz-build
codec-fuzzers: $(CODEC_FUZZERS)
codec-fuzz-run: codec-fuzzers
	@scripts/run-fuzz -T $(FUZZ_TIME) -j $(FUZZ_JOBS) $(BUILD) $(notdir $(CODEC_FUZZERS))
fuzz-build: $(FUZZ_TARGETS)
