# tests/vmodem: the virtual telephone line (spandsp T.31 modems on ptys, a virtual
# exchange and virtual remote fax machines). Test equipment, not installed: it is built
# into $(BUILD)/tests-bin/vmodem and used by the integration tests and `make run`.
VMODEM_LDLIBS := $(call pc_libs,spandsp) -ltiff -lm
$(eval $(call PROGRAM,vmodem,tests-bin,$(wildcard tests/vmodem/*.c),,$(VMODEM_LDLIBS),$(call pc_cflags,spandsp)))
