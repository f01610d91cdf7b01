# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# make               build build/ftscope
# make check         provision (scripts/setup.sh), build, run unit + e2e tests (prove)
# make demo          provision, build, run ftscope over the bundled example packages
# make ft-python     print the free-threaded interpreter's path (building it if missing)
# Knobs: V=1 (show commands), SANITIZE=address,undefined, DEVELOPER=1 (-Werror), DEBUG=1,
#        EXTRA_CFLAGS=, EXTRA_LDFLAGS=, FTSCOPE_CACHE= (interpreter cache), PROVE_JOBS=.

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD := build
PKGS := libelf libdw libunwind-ptrace libcjson libgit2 libxml-2.0 yaml-0.1

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-9s %s\n' '$(1)' '$(2)';
endif

CFLAGS_BASE := -std=gnu11 -g -O2 -Wall -Wextra -Wshadow -Wno-unused-parameter \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -D_GNU_SOURCE \
	-fno-omit-frame-pointer -Iinclude -I$(BUILD)/gen
ifeq ($(DEBUG),1)
CFLAGS_BASE += -O0
endif
ifeq ($(DEVELOPER),1)
CFLAGS_BASE += -Werror -Wdeclaration-after-statement
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE)
LDFLAGS_SAN := -fsanitize=$(SANITIZE)
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lm

SRCS := $(wildcard src/*.c symbolizer/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/src/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
DEPS := $(OBJS:.o=.d) $(UNIT_BINS:$(BUILD)/tests/unit/%=$(BUILD)/deps/unit/%.d)

.PHONY: all check test unit e2e demo ft-python setup clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/ftscope

# Rebuild everything when the flags change (git's GIT-CFLAGS).
$(BUILD)/CFLAGS.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@
FORCE:

# Python helper scripts are embedded as C strings (build/gen/py_<name>.h).
PY_SCRIPTS := $(wildcard src/py/*.py)
PY_HEADERS := $(PY_SCRIPTS:src/py/%.py=$(BUILD)/gen/py_%.h)
$(BUILD)/gen/py_%.h: src/py/%.py
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@){ echo 'static const char py_$*[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@
$(OBJS): $(PY_HEADERS)

$(BUILD)/obj/%.o: %.c $(BUILD)/CFLAGS.stamp
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/ftscope: $(OBJS)
	$(call msg,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJS) $(BUILD)/CFLAGS.stamp
	@mkdir -p $(dir $@) $(BUILD)/deps/unit
	$(call msg,CC,$@)$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -MF $(BUILD)/deps/unit/$*.d -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(LIBS)

-include $(DEPS)

setup:
	$(Q)bash scripts/setup.sh

ft-python:
	@bash scripts/setup.sh --print-python

unit: $(UNIT_BINS)

# Unit and e2e tests are TAP; prove runs them all and ends with "Result: PASS|FAIL".
check: setup
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)FTSCOPE=$(CURDIR)/$(BUILD)/ftscope FT_PYTHON=$$(bash scripts/setup.sh --print-python) \
		prove -j$(or $(PROVE_JOBS),2) --timer $(UNIT_BINS) tests/e2e/t*.sh
test: check

demo: setup all
	$(Q)bash scripts/demo.sh

clean:
	rm -rf $(BUILD)
