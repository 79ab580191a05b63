# tests/unit: one Check program per tests/unit/test_NAME.c, linked with every library.
# A library with its own module.mk (e.g. lib/codec) adds itself with
# UNIT_EXTRA_LIBS += codec and UNIT_EXTRA_LDLIBS += -ltiff ...
UNIT_ALL_LIBS := $(UNIT_EXTRA_LIBS) mail util
UNIT_ALL_LDLIBS := $(UNIT_EXTRA_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS) -lm
# The queue's tests share helpers (queue_testutil.c).
UNIT_QUEUE_TESTS := tests/unit/test_queue.c tests/unit/test_queue_recycle.c
$(foreach t,$(filter-out $(UNIT_QUEUE_TESTS),$(wildcard tests/unit/test_*.c)),\
  $(eval $(call UNIT_TEST,$(basename $(notdir $(t))),$(t),$(UNIT_ALL_LIBS),$(UNIT_ALL_LDLIBS))))
$(foreach t,$(UNIT_QUEUE_TESTS),\
  $(eval $(call UNIT_TEST,$(basename $(notdir $(t))),$(t) tests/unit/queue_testutil.c,$(UNIT_ALL_LIBS),$(UNIT_ALL_LDLIBS))))
