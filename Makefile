# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# make               build build/ftscope
# make check         provision (scripts/setup.sh), build, run unit + e2e tests (prove)
# make demo          provision, build, run ftscope over the bundled example packages
# make ft-python     print the free-threaded interpreter's path (building it if missing)
# make install       install the binary, the man page and bash completion under
#                    $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make man regenerates the page
# Knobs: V=1 (show commands), SANITIZE=address,undefined, DEVELOPER=1 (-Werror), DEBUG=1,
#        EXTRA_CFLAGS=, EXTRA_LDFLAGS=, FTSCOPE_CACHE= (interpreter cache), PROVE_JOBS=.

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD := build
PKGS := libelf libdw libdeflate libunwind-ptrace libcjson yaml-0.1 libbpf
# Opened at first use (include/ftscope/dlib.h): their headers at build time, not linked;
# the soname the toolchain finds is the one loaded (build/gen/dl_sonames.h, below).
DL_PKGS := libgit2 libxml-2.0
DL_LIBS := libgit2 libxml2

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

# Recursive (=): read when a recipe runs, i.e. after `make setup` installed pkg-config and the
# -dev packages, never when make starts (on a new host nothing is installed yet then).
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(DL_PKGS) 2>/dev/null)
# STATIC_LIBS=1 (the default): the libraries whose -dev packages ship position-independent
# static archives (elfutils, libdeflate, libbpf, libyaml, zlib, xz, bzip2) are linked from
# them, each where its archive is there (probed when the link runs); libunwind's archives are not
# position-independent and cJSON ships none, so those stay shared. Loading nine shared
# libraries was ~1 ms of every command's start on our VMs (bench/dump_vs_gdb.sh). STATIC_LIBS=0
# links everything shared.
STATIC_LIBS ?= 1
STATIC_PKGS := libelf libdw libdeflate yaml-0.1 libbpf
# -lX -> -l:libX.a where the toolchain finds libX.a (else -lX as it was; libc's own stay)
static_ar = $(foreach f,$(1),$(if $(filter-out -lpthread -ldl -lm -lrt -lc,$(filter -l%,$(f))),$(if $(wildcard $(shell $(CC) -print-file-name=lib$(f:-l%=%).a)),-l:lib$(f:-l%=%).a,$(f)),$(f)))
ifeq ($(STATIC_LIBS),1)
PKG_LIBS = $(call static_ar,$(shell $(PKG_CONFIG) --libs --static $(STATIC_PKGS) 2>/dev/null)) \
	$(shell $(PKG_CONFIG) --libs $(filter-out $(STATIC_PKGS),$(PKGS)) 2>/dev/null)
else
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
endif
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)
# qsort wrapped (src/base/util.c: runs merged, for libdw's nearly sorted line tables)
LIBS = $(PKG_LIBS) -lm -Wl,--wrap=qsort

# src/<stage>/*.c (docs/architecture.md); src/*.c too, for a branch that adds a file there.
SRCS := $(wildcard src/*.c src/*/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/src/cli/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
DEPS := $(OBJS:.o=.d) $(UNIT_BINS:$(BUILD)/tests/unit/%=$(BUILD)/deps/unit/%.d)

.PHONY: all check test unit e2e demo ft-python setup clean install man
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/ftscope

# Rebuild everything when the flags change (git's GIT-CFLAGS).
$(BUILD)/CFLAGS.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@
FORCE:

# Python helper scripts are embedded as C strings (build/gen/py_<name>.h).
PY_SCRIPTS := $(wildcard src/run/py/*.py)
PY_HEADERS := $(PY_SCRIPTS:src/run/py/%.py=$(BUILD)/gen/py_%.h)
$(BUILD)/gen/py_%.h: src/run/py/%.py
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@){ echo 'static const char py_$*[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@
$(OBJS): $(PY_HEADERS)

# The sonames of DL_LIBS as #defines (LIBGIT2_SONAME...), found when the build runs, not
# when make starts: on a new host `make setup` installs the -dev packages (and cc) first.
# One that cannot be found stops the build; a binary with an empty soname could not fetch.
# Rewritten only when it changes (like CFLAGS.stamp), so a later make after a failed one, or
# after a library upgrade, rebuilds exactly what uses it.
DL_SONAMES := $(BUILD)/gen/dl_sonames.h
$(DL_SONAMES): FORCE
	@mkdir -p $(dir $@)
	$(Q)set -e; tmp=$@.tmp; : >$$tmp; for lib in $(DL_LIBS); do \
	  f=$$($(CC) -print-file-name=$$lib.so); \
	  so=$$(objdump -p "$$f" 2>/dev/null | awk '/SONAME/ { print $$2 }'); \
	  if [ -z "$$so" ]; then rm -f $$tmp; \
	    echo "error: $$lib.so not found by $(CC) (got '$$f'), so the soname of $$lib is" \
	      "unknown; install $$lib-dev (make setup does), then run make again" >&2; exit 1; fi; \
	  echo "#define $$(echo $$lib | tr a-z A-Z)_SONAME \"$$so\"" >>$$tmp; \
	done; cmp -s $$tmp $@ || mv $$tmp $@; rm -f $$tmp
$(BUILD)/obj/src/run/gitrepo.o $(BUILD)/obj/src/run/junit.o: $(DL_SONAMES)

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
	$(Q)bash scripts/setup.sh $(SETUP_ARGS)

ft-python:
	@bash scripts/setup.sh --print-python

unit: $(UNIT_BINS)

# Unit and e2e tests are TAP; prove runs them all and ends with "Result: PASS|FAIL".
# check provisions the GIL baseline too (t0235, PEP 779's comparison): no test skips for a
# missing install step.
check: SETUP_ARGS = --with-baseline
check: setup
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke FUZZ_SMOKE_RECORD=1
	$(Q)FTSCOPE=$(CURDIR)/$(BUILD)/ftscope FT_PYTHON=$$(bash scripts/setup.sh --print-python) \
		prove -j$(or $(PROVE_JOBS),2) --timer $(UNIT_BINS) tests/e2e/t*.sh tests/fuzz/smoke-tap.sh
test: check

# setup first, then a new make: what the build reads from the host is read after setup.
demo: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh

clean:
	rm -rf $(BUILD)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install

install: $(BUILD)/ftscope
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLETIONDIR)
	$(INSTALL) -m 755 $(BUILD)/ftscope $(DESTDIR)$(BINDIR)/ftscope
	$(INSTALL) -m 644 docs/ftscope.1 $(DESTDIR)$(MANDIR)/man1/ftscope.1
	$(INSTALL) -m 644 scripts/ftscope.bash-completion $(DESTDIR)$(COMPLETIONDIR)/ftscope

# docs/ftscope.1 is generated from the --help texts and committed (tests/e2e/t0003 checks it)
man: $(BUILD)/ftscope
	$(Q)bash scripts/gen-manpage.sh $(BUILD)/ftscope >docs/ftscope.1.tmp && mv docs/ftscope.1.tmp docs/ftscope.1

# ---- eBPF programs --------------------------------------------------------------------------
# bpf/<probe>.bpf.c -> build/bpf/<probe>.bpf.o (clang -target bpf, then `bpftool gen object`,
# which also drops the DWARF) -> build/bpf/<probe>.skel.h (`bpftool gen skeleton`, struct
# ftscope_<probe>). The object that includes a skeleton depends on it explicitly and gets
# -I$(BUILD)/bpf. CO-RE types come from the hand-written bpf/vmlinux.h (see bpf/README.md),
# so the build does not read the build host's kernel BTF. Needs clang >= 12 and bpftool.
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
CLANG ?= clang
BPF_ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
# clang -target bpf does not search the host's system include dirs (for <bpf/*.h>).
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
# -mcpu=v3: atomic fetch-add/xchg (kernel >= 5.12).
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Ibpf -Iinclude \
	$(CLANG_BPF_SYS_INCLUDES)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)

all: $(BPF_SKELS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MT $@ -MF $(@:.o=.d) -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o) && rm -f $(@:.o=.tmp.o)

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< name ftscope_$* > $@

$(BUILD)/obj/src/tracer/bpfrec.o $(BUILD)/obj/src/tracer/bpfrec_maps.o: $(BUILD)/bpf/recorder.skel.h
$(BUILD)/obj/src/tracer/bpfrec.o $(BUILD)/obj/src/tracer/bpfrec_maps.o: private ALL_CFLAGS += -I$(BUILD)/bpf

-include $(BPF_OBJS:.o=.d)

# The recorder's overhead benchmark (root): `make bench-bpfrec`.
BPFREC_BENCH_OBJS := $(addprefix $(BUILD)/obj/src/,tracer/bpfrec.o tracer/bpfrec_maps.o base/util.o base/error.o base/diskspace.o)
$(BUILD)/bench/bpfrec_overhead: bench/bpfrec_overhead.c $(BPFREC_BENCH_OBJS) $(BUILD)/CFLAGS.stamp
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(ALL_CFLAGS) -o $@ $< $(BPFREC_BENCH_OBJS) $(ALL_LDFLAGS) $(LIBS)
.PHONY: bench-bpfrec
bench-bpfrec: $(BUILD)/bench/bpfrec_overhead
	$(Q)$< 7

# ---- fuzzing (libFuzzer, clang) -------------------------------------------------------------
# make fuzz        build tests/fuzz/fuzz_*.c, each linked with the library compiled by clang
#                  with -fsanitize=fuzzer-no-link,address,undefined (all under build/fuzz/),
#                  and run each for FUZZ_TIME seconds from the seeds in tests/fuzz/corpus/<t>/
#                  (new inputs: build/fuzz/corpus/<t>/, crashes: build/fuzz/artifacts/)
# make fuzz-smoke  the same, FUZZ_SMOKE_TIME seconds each; `make check` runs it and prove
#                  reports it (tests/fuzz/smoke-tap.sh). Without clang's fuzzer runtime
#                  (Debian: clang, libclang-rt-14-dev) it says so and succeeds.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_SMOKE_TIME ?= 8
FUZZ_SAN := address,undefined
FUZZ_CFLAGS = $(CFLAGS_BASE) -O1 -fno-sanitize-recover=undefined -Wno-format-nonliteral \
	-Werror=implicit-function-declaration -Werror=incompatible-pointer-types -Werror=int-conversion \
	-I$(BUILD)/bpf $(PKG_CFLAGS)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(filter-out src/cli/main.c,$(SRCS)))
FUZZ_RUN := bash tests/fuzz/run-fuzzers.sh

.PHONY: fuzz fuzz-smoke fuzz-build
$(BUILD)/fuzz/obj/%.o: %.c $(PY_HEADERS) $(BPF_SKELS) $(DL_SONAMES) $(BUILD)/CFLAGS.stamp
	@mkdir -p $(dir $@)
	$(call msg,FUZZ-CC,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
		-MMD -MP -c $< -o $@
$(BUILD)/fuzz/libftscope.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/libftscope.a
	$(call msg,FUZZ-LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP \
		-MF $(BUILD)/fuzz/obj/fuzz_$*.d -o $@ $< $(BUILD)/fuzz/libftscope.a $(LIBS)
-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:$(BUILD)/fuzz/%=$(BUILD)/fuzz/obj/%.d)

fuzz-build: $(FUZZ_BINS)

fuzz:
	$(Q)$(FUZZ_RUN) --check $(FUZZ_CC) || { echo "fuzz: $(FUZZ_CC) cannot build libFuzzer" \
		"targets (Debian: clang, libclang-rt-14-dev)" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)$(FUZZ_RUN) $(BUILD) $(FUZZ_TIME) $(notdir $(FUZZ_BINS))

fuzz-smoke:
	@mkdir -p $(BUILD)/fuzz && rm -f $(BUILD)/fuzz/smoke.result $(BUILD)/fuzz/smoke.result.skip
	$(Q)if $(FUZZ_RUN) --check $(FUZZ_CC); then \
		$(MAKE) --no-print-directory fuzz-build && \
		$(FUZZ_RUN) $(if $(FUZZ_SMOKE_RECORD),--record $(BUILD)/fuzz/smoke.result) \
			$(BUILD) $(FUZZ_SMOKE_TIME) $(notdir $(FUZZ_BINS)); \
	else \
		why="$(FUZZ_CC) cannot build libFuzzer targets (Debian: clang, libclang-rt-14-dev)"; \
		echo "fuzz-smoke: skipped: $$why"; echo "$$why" > $(BUILD)/fuzz/smoke.result.skip; \
	fi
