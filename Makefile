# SPDX-License-Identifier: Apache-2.0
# wapsim: make | make test | make demo | make deps | make install PREFIX=... | make deb | make bench | make fuzz
# Every target that compiles depends on deps, which installs missing Debian packages when run as root.

PREFIX  ?= /usr/local
# The version, in one place: wapsim --version, the manual pages and the package (debian/changelog,
# checked against it by tests/integration/test_install.sh) take it from VERSION.
VERSION := $(shell cat VERSION)
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation
PKGS    := sqlite3 openssl libmicrohttpd libcjson libcurl zlib libarchive
# Deferred (=) so pkg-config runs after deps has installed what it needs.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = $(WARN) $(CFLAGS) -Isim $(PKG_CFLAGS) -MMD -MP
LDLIBS     = $(PKG_LIBS) -lm

# sim/: the core library in its layers (README, Layout), and the wapsim command (sim/cli).
LAYERS   := base crypto wire lab svc client train
CMD_SRC  := $(wildcard sim/cli/*.c)
LIB_SRC  := $(foreach l,$(LAYERS),$(wildcard sim/$(l)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/obj/%.o)
COMPONENTS := portal spf vmm gateway host balancer
PROGRAMS := $(BUILD)/wapsim $(COMPONENTS:%=$(BUILD)/wapsim-%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SAN_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/san/tests/%)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.SECONDARY:
.PHONY: all deps deps-fuzz test unit unit-san integration demo install deb clean bench check-layers fuzz
.DEFAULT_GOAL := all

# The manual pages: man/*.in with @VERSION@ filled in.
MAN_SRC  := $(wildcard man/*.in)
MAN_PAGES := $(MAN_SRC:man/%.in=$(BUILD)/man/%)

all: $(PROGRAMS) $(MAN_PAGES)

# NO_DEPS=1: the packages are someone else's business (debian/rules: Build-Depends).
deps:
	@[ -n "$(NO_DEPS)" ] || sh mk/deps.sh
	@[ -n "$(NO_DEPS)" ] || sh mk/deps-web.sh

$(BUILD)/man/%: man/%.in VERSION
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< >$@

# wapsim --version: the one object that carries the version.
$(BUILD)/obj/sim/cli/wapsim.o $(BUILD)/san/obj/sim/cli/wapsim.o: VERSION
$(BUILD)/obj/sim/cli/wapsim.o $(BUILD)/san/obj/sim/cli/wapsim.o: ALL_CFLAGS += -DWAPSIM_VERSION='"$(VERSION)"'

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libwapsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/wapsim: $(CMD_OBJ) $(BUILD)/libwapsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libwapsim.a $(LDLIBS)

# A component: everything in its folder, linked with the core library.
define component_rule
$(BUILD)/wapsim-$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(BUILD)/libwapsim.a
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(BUILD)/libwapsim.a $$(LDLIBS)
endef
$(foreach c,$(COMPONENTS),$(eval $(call component_rule,$(c))))

# Unit tests: cmocka, one binary per file, linked against the library objects.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwapsim.a | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $$(pkg-config --cflags cmocka) -o $@ $< $(filter %.o,$^) $(BUILD)/libwapsim.a $(LDLIBS) $$(pkg-config --libs cmocka)

# A component's parser split out of its request handler is linked into its unit test
# (tests/unit/test_NAME.c) and its fuzz target (tests/fuzz/fuzz_NAME.c): NAME, then the file.
COMPONENT_PARSERS := httphead:gateway/httphead portal:portal/request spf:spf/request balancer:balancer/pick \
                     web:portal/web web:portal/session web:portal/request web:portal/throttle \
                     web:portal/classroom_form
define component_parser_rule
$(BUILD)/tests/test_$(1): $(BUILD)/obj/$(2).o
$(BUILD)/san/tests/test_$(1): $(BUILD)/san/obj/$(2).o
$(BUILD)/fuzz/bin/fuzz_$(1): $(BUILD)/fuzz/obj/$(2).o
endef
$(foreach p,$(COMPONENT_PARSERS),$(eval $(call component_parser_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# Tools the integration tests drive (load generators), linked with the library.
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libwapsim.a | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwapsim.a $(LDLIBS)

# Benchmarks (make bench): each tests/bench/*.c is one program, linked with the library;
# -rdynamic lets a bench program's SSL_connect wrapper see libcurl's calls too.
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libwapsim.a | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $< $(BUILD)/libwapsim.a $(LDLIBS) -ldl -lm
# The handshake counter the bench preloads into the main lab's processes (tests/bench/shim/hscount.c).
$(BUILD)/bench/hscount.so: tests/bench/shim/hscount.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -fPIC -shared -o $@ $< -ldl -lssl

# The same unit tests and library under AddressSanitizer and UndefinedBehaviorSanitizer.
$(BUILD)/san/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(BUILD)/san/tests/%: tests/unit/%.c $(LIB_SRC:%.c=$(BUILD)/san/obj/%.o) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) $$(pkg-config --cflags cmocka) -o $@ $(filter %.c %.o,$^) $(LDLIBS) $$(pkg-config --libs cmocka)

# The programs under the same sanitizers, for the hostile-client test: the san wapsim
# starts the components beside it (ws_program_path), so its labs run these.
SAN_LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/obj/%.o)
SAN_PROGRAMS := $(BUILD)/san/bin/wapsim $(COMPONENTS:%=$(BUILD)/san/bin/wapsim-%)
$(BUILD)/san/bin/wapsim: $(CMD_SRC:%.c=$(BUILD)/san/obj/%.o) $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(SAN_FLAGS) -o $@ $^ $(LDLIBS)
define san_component_rule
$(BUILD)/san/bin/wapsim-$(1): $(patsubst %.c,$(BUILD)/san/obj/%.o,$(wildcard $(1)/*.c)) $(SAN_LIB_OBJ)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -O1 $$(SAN_FLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach c,$(COMPONENTS),$(eval $(call san_component_rule,$(c))))

# make test: unit tests, the same under sanitizers, then integration tests; ends with
# one summary line "N passed, N failed".
test: check-layers all $(UNIT_BIN) $(SAN_BIN) $(TOOL_BIN) $(SAN_PROGRAMS)
	@sh tests/run.sh $(BUILD)

# The include rules of README "Layout": each layer sees only the layers before it.
check-layers:
	@sh mk/check-layers.sh

# make bench: the chain measured against its physical floor (never part of make test, never fails on speed):
# one Markdown table on standard output, the same figures in $(BUILD)/bench.json.
bench: all $(BUILD)/tools/tunnels $(BENCH_BIN) $(BUILD)/bench/hscount.so
	@sh tests/bench/bench.sh $(BUILD)

# make fuzz: one libFuzzer program per tests/fuzz/fuzz_*.c, built with clang against the library
# compiled apart under ASan and UBSan (clang has no -Wformat-truncation: hence -Wno-unknown-warning-option); each runs FUZZ_SECONDS (default 60), then one table (mk/fuzz.sh).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -Wno-unknown-warning-option -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/bin/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

deps-fuzz: deps
	@sh mk/deps-fuzz.sh

$(BUILD)/fuzz/obj/%.o: %.c | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/bin/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ) | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@sh mk/fuzz.sh $(BUILD) $(FUZZ_SECONDS)

unit: $(UNIT_BIN)
	@sh tests/run.sh $(BUILD) unit

demo: all
	@sh mk/demo.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the FHS layout. The installed wapsim finds its
# components in ../libexec/wapsim (ws_program_path) and the shipped scenarios and exercises in
# ../share/wapsim/scenarios (ws_exercise_catalogue_dir) relative to its own folder.
DATADIR := $(PREFIX)/share/wapsim
MANDIR  := $(PREFIX)/share/man
DOCDIR  := $(PREFIX)/share/doc/wapsim
COMPLETIONDIR := $(PREFIX)/share/bash-completion/completions
# The classroom's systemd unit template (README "A classroom machine"), installed, never enabled;
# its ExecStart names this install's wapsim (@BINDIR@). systemd reads /usr/local/lib/systemd/system
# ("System units installed by the administrator", systemd.unit(5)); the package's goes to
# /lib/systemd/system (debian/rules sets SYSTEMDUNITDIR).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UNIT_TEMPLATE  := wapsim-classroom@.service
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/wapsim
	install -m 0755 $(BUILD)/wapsim $(DESTDIR)$(PREFIX)/bin/wapsim
	install -m 0755 $(COMPONENTS:%=$(BUILD)/wapsim-%) $(DESTDIR)$(PREFIX)/libexec/wapsim/
	install -d $(DESTDIR)$(DATADIR)/scenarios/exercises $(DESTDIR)$(DATADIR)/schema
	install -m 0644 scenarios/*.scn $(DESTDIR)$(DATADIR)/scenarios/
	install -m 0644 scenarios/exercises/*.scn $(DESTDIR)$(DATADIR)/scenarios/exercises/
	install -m 0644 schema/deployment-v1.schema.json $(DESTDIR)$(DATADIR)/schema/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 completion/wapsim.bash $(DESTDIR)$(COMPLETIONDIR)/wapsim
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 README.md CHANGELOG.md LICENSE $(DESTDIR)$(DOCDIR)/
	@mkdir -p $(BUILD)/systemd
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/$(UNIT_TEMPLATE).in >$(BUILD)/systemd/$(UNIT_TEMPLATE)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 $(BUILD)/systemd/$(UNIT_TEMPLATE) $(DESTDIR)$(SYSTEMDUNITDIR)/

# make deb: build/deb/wapsim_VERSION_ARCH.deb with Debian's tools (dpkg-buildpackage, debhelper,
# lintian: installed by mk/deps.sh as root), from a copy of the sources (mk/deb.sh).
deb:
	@sh mk/deps.sh "make deb" debhelper lintian dpkg-dev fakeroot
	@sh mk/deb.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
