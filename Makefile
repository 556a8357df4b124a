# Thin wrapper over meson so that `make` builds everything into build/.
#   make            build build/berth-runc, build/berth-init, ...
#   make check      install what the tests need, then unit tests (plain and
#                   ASan+UBSan) and the integration tests
#   make demo       install, build, and run a real workload in a container
#   make bench      benchmarks against the peers (bench/run)
#   make format     clang-format every C file in place

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTEST     ?= /usr/bin/python3 -m pytest
MESON_OPTS ?=

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all bootstrap check unit unit-asan integration integration-asan demo bench format format-check fuzz clean install

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

bootstrap:
	scripts/bootstrap

check: bootstrap
	$(MAKE) format-check
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) integration-asan

unit: all
	meson test -C $(BUILD) --print-errorlogs

unit-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs

# Runs every fuzz target briefly over its corpus (see tests/fuzz/README.md).
fuzz: all
	tests/fuzz/run-corpus $(BUILD)

integration: all
	$(PYTEST) -q tests/integration

# The Engine API suite once more against the sanitizer build: berthd and
# its shims under AddressSanitizer, leaks included, must exit clean.
integration-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	BERTH_BUILD=$(ASAN_BUILD) ASAN_OPTIONS=detect_leaks=1 $(PYTEST) -q tests/integration/api

demo: bootstrap all
	scripts/demo

bench: bootstrap all
	bench/run $(BENCH_ARGS)

format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run -Werror $(C_FILES)

PREFIX         ?= /usr/local
BASH_COMPLETION ?= $(PREFIX)/share/bash-completion/completions
MANDIR         ?= $(PREFIX)/share/man

install: all
	meson install -C $(BUILD)
	install -D -m 0644 cmd/berth/berth.bash $(DESTDIR)$(BASH_COMPLETION)/berth
	install -D -m 0644 doc/berth.1 $(DESTDIR)$(MANDIR)/man1/berth.1
	install -D -m 0644 doc/berthd.8 $(DESTDIR)$(MANDIR)/man8/berthd.8

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
