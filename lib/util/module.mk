# lib/util: utilities that know nothing of mail (buffers, logging, streams, TLS, net).
UTIL_LDLIBS := -lssl -lcrypto -lpthread
$(eval $(call LIBRARY,util,$(wildcard lib/util/*.c)))
