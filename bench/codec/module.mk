# bench/codec: T.4/T.6 and JBIG throughput of lib/codec against libtiff and jbigkit in
# the same run (`make bench`).
$(eval $(call PROGRAM,codec_bench,bench,bench/codec/codec_bench.c,codec mail util,$(CODEC_LDLIBS) $(UTIL_LDLIBS)))
BENCH_TARGETS += $(codec_bench_BIN)
BENCH_SCRIPTS += bench/codec/run
