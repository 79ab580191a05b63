# bench/smtp-accept: durable SMTP accept rate, faxpost smtpd vs a private Postfix (smtp-source).
BENCH_SCRIPTS += bench/smtp-accept/run
