BENCH_SCRIPTS += bench/pop/run
