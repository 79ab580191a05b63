# bench/relay: smtpd -> qmgr -> smtp -> smtp-sink against the same path through a
# private Postfix, in one run; and `faxpost queue` vs `postqueue -p` on 100,000 messages.
BENCH_SCRIPTS += bench/relay/run
