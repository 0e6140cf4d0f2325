# srdf — plain Makefile.  make, make check, make bench, make install.
# Every directory named in TOOLS holds the sources of one executable,
# srdf-<dir>; lib/ is linked into all of them as lib/libsrdf.a.
# t/helpers/*.c are test programs linked the same way.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/srdf
# /usr installs its configuration in /etc, anything else under PREFIX.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# The tools' default state directory (srdf(7)); the units' StateDirectory=.
STATEDIR := /var/lib/srdf
DESTDIR ?=

CC ?= cc
VERSION := 0.1.0
PKGS := libmariadb libzstd libsodium jansson libcurl libmicrohttpd libsystemd
CPPFLAGS += -D_GNU_SOURCE -DSRDF_VERSION='"$(VERSION)"' -Ilib \
	$(shell pkg-config --cflags $(PKGS))
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
LDLIBS += $(shell pkg-config --libs $(PKGS)) -llmdb -lz

# A tool is built once its directory holds sources.
ALL_TOOLS := capture dedup seal keygen cat ship recv ackd apply bootstrap \
	verify status promote rewind failback
TOOLS := $(foreach d,$(ALL_TOOLS),$(if $(wildcard $(d)/*.c),$(d)))
BINS := $(TOOLS:%=bin/srdf-%)
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:.c=.o)
HELPER_SRC := $(wildcard t/helpers/*.c)
HELPERS := $(HELPER_SRC:.c=)
MAN := $(wildcard man/*.[1-9])

all: $(BINS) $(HELPERS)

lib/libsrdf.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# srdf-rewind runs its undo through srdf-apply's engine: it links
# srdf-apply's objects but the one with main().
rewind_EXTRA := $(filter-out apply/apply.o,$(patsubst %.c,%.o,$(wildcard apply/*.c)))
rewind/%.o: CPPFLAGS += -Iapply

# One rule per tool: all .c files of its directory (and $(d)_EXTRA).
define tool_rule
bin/srdf-$(1): $(patsubst %.c,%.o,$(wildcard $(1)/*.c)) $$($(1)_EXTRA) lib/libsrdf.a
	@mkdir -p bin
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

t/helpers/%: t/helpers/%.c lib/libsrdf.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

HDRS := $(wildcard lib/*.h $(addsuffix /*.h,$(ALL_TOOLS)))
%.o: %.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# A tool's objects depend on the headers of its own directory too.
$(foreach t,$(TOOLS),$(eval $(patsubst %.c,%.o,$(wildcard $(t)/*.c)): \
	$(wildcard $(t)/*.h)))

check: all
	prove -j2 t/

# The whole suite, tools and t/helpers alike, under AddressSanitizer,
# LeakSanitizer and UBSan; rebuilds from clean before and after so
# sanitized and normal objects never mix.  The reports go to files in
# t/sanitizer/, not to stderr: a daemon that a test stops without looking
# at its exit status (or its stderr) fails the target all the same.
SAN_LOG := log_path=$(CURDIR)/t/sanitizer/report
check-asan:
	$(MAKE) -s clean
	$(MAKE) WERROR=1 CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" all
	rm -rf t/sanitizer && mkdir t/sanitizer
	rc=0; ASAN_OPTIONS=detect_leaks=1:$(SAN_LOG) \
		UBSAN_OPTIONS=print_stacktrace=1:$(SAN_LOG) prove -j2 t/ || rc=$$?; \
	for f in t/sanitizer/*; do [ -e "$$f" ] || break; cat "$$f"; rc=1; done; \
	exit $$rc
	$(MAKE) -s clean

# The libFuzzer harnesses, t/fuzz/README.  lib/ (and, for the sql
# harness, srdf-apply's engine) compiled again by clang with the fuzzer's
# coverage and the sanitizers into t/fuzz/obj/, apart from the normal
# build's objects.  make fuzz runs each harness FUZZ_SECONDS (300: half
# an hour for the six) on one CPU and fails on a crash, which it leaves
# in t/fuzz/crash/; make check runs them 5 s each (t/0004-lib-fuzz.t)
# when clang can link libFuzzer.
FUZZ := wagon record sql ddl ack hauth
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_CFLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra \
	-Wno-unused-parameter -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=t/fuzz/obj/%.o)
# srdf-apply's objects but its loop (main() and the files over struct
# applier, apply/applier.h): the sql harness renders wagons as
# srdf-apply --dry-run does.
APPLY_LOOP_SRC := apply/apply.c apply/start.c apply/step.c apply/inbox.c \
	apply/outcome.c apply/prefetch.c apply/dispatch.c apply/merge.c apply/xa.c \
	apply/until.c
FUZZ_APPLY_OBJ := $(patsubst %.c,t/fuzz/obj/%.o,$(filter-out \
	$(APPLY_LOOP_SRC),$(wildcard apply/*.c)))
FUZZ_BINS := $(FUZZ:%=t/fuzz/bin/%)

t/fuzz/obj/%.o: %.c $(HDRS) $(wildcard t/fuzz/*.h apply/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -It/fuzz $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c -o $@ $<

t/fuzz/obj/libsrdf.a: $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

t/fuzz/obj/t/fuzz/sql.o: CPPFLAGS += -Iapply
t/fuzz/bin/sql: FUZZ_EXTRA = $(FUZZ_APPLY_OBJ) -Wl,--wrap=db_table
t/fuzz/bin/sql: $(FUZZ_APPLY_OBJ)
t/fuzz/bin/%: t/fuzz/obj/t/fuzz/%.o t/fuzz/obj/libsrdf.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_EXTRA) \
		t/fuzz/obj/libsrdf.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	t/fuzz/run $(FUZZ_SECONDS) $(FUZZ)

bench: all
	bench/run

# The WAN partition tests in their long form: the link cut for five
# minutes instead of one, and t/8005's 30 minutes of load with a cut of
# ten (t/8-wan-lib.sh; needs root).
soak: all
	SRDF_SOAK=1 prove -v t/8003-wan-partition.t \
		t/8004-wan-partition-dr-restart.t t/8005-wan-soak.t

# The seeded random differential tester of the whole pipeline
# (t/difftest/README): make difftest SEEDS=1-30 MODE=a|b|c|v|o|all.
SEEDS ?= 1-30
MODE ?= all
difftest: all
	t/difftest/run --seeds $(SEEDS) --mode $(MODE) $(DIFFTEST_FLAGS)

demo:
	examples/demo.sh

lint:
	mandoc -T lint -W warning $(MAN)

# Every C file as .clang-format says (clang-format 14, Debian 12's):
# `make format' rewrites them, `make format-check' (run by .ci/run) fails
# on the first it would change.
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	@clang-format -i $(FORMAT_SRC)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MAN); do s=$${m##*.}; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	cp -R examples/. $(DESTDIR)$(DOCDIR)/examples/
	$(MAKE) units
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR)
	install -m 644 $(filter %.service %.target %.timer,$(UNITS)) \
		$(DESTDIR)$(SYSTEMDDIR)
	install -m 644 bin/systemd/srdf.sysusers $(DESTDIR)$(SYSUSERSDIR)/srdf.conf
	install -m 644 bin/systemd/srdf.tmpfiles $(DESTDIR)$(TMPFILESDIR)/srdf.conf

# The systemd units (examples/systemd, srdf-deploy(7)), with the paths of
# this build, in bin/systemd/; make install installs them.
UNIT_SRC := $(wildcard examples/systemd/*.service.in examples/systemd/*.target \
	examples/systemd/*.timer examples/systemd/*.tmpfiles.in \
	examples/systemd/*.sysusers)
UNITS := $(patsubst examples/systemd/%,bin/systemd/%,$(UNIT_SRC:.in=))
SUBST := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@STATEDIR@|$(STATEDIR)|g'

bin/systemd/%: examples/systemd/%.in Makefile
	@mkdir -p $(@D)
	$(SUBST) $< >$@
bin/systemd/%: examples/systemd/% Makefile
	@mkdir -p $(@D)
	$(SUBST) $< >$@

# The paths are substituted at build time: a unit built for one PREFIX is
# rebuilt when another is asked for.
units:
	rm -rf bin/systemd
	$(MAKE) $(UNITS)

# The Debian package (debian/), built by dpkg-buildpackage in a copy of
# the tree under bin/deb/, where it leaves srdf_$(VERSION)_*.deb and the
# .changes; `lintian bin/deb/*.changes` checks them.
deb:
	rm -rf bin/deb
	mkdir -p bin/deb/srdf-$(VERSION)
	tar -cf - --exclude-vcs --exclude=./bin --exclude='./t/trash*' \
		--exclude='*.o' --exclude='*.a' . | tar -C bin/deb/srdf-$(VERSION) -xf -
	cd bin/deb/srdf-$(VERSION) && dpkg-buildpackage -us -uc -b
	rm -rf bin/deb/srdf-$(VERSION)
	ls bin/deb

clean:
	rm -f lib/*.o lib/libsrdf.a */*.o $(HELPERS)
	rm -rf bin t/fuzz/obj t/fuzz/bin t/fuzz/work t/sanitizer

.PHONY: difftest all check check-asan bench soak demo lint format format-check install clean \
	fuzz fuzz-build units deb
