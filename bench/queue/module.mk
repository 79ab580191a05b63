# bench/queue: queue micro-benchmark (qbench) and its driver bench/queue/run.
$(eval $(call PROGRAM,qbench,bench,bench/queue/qbench.c,mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
BENCH_TARGETS += $(qbench_BIN)
BENCH_SCRIPTS += bench/queue/run
