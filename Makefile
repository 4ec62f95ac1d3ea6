# rnc: a compiler from .rn network descriptions to specialized C.
#
#   make            build build/rnc (and ./rnc) and build/librnrt.a
#   make test       unit + end-to-end tests, then all again under ASan+UBSan
#   make demo       ResNet-34 end to end: compile, weights, build, run
#   make demo-trained  a digits CNN trained in PyTorch, imported, run, checked
#   make bench      timings (separate from tests)
#   make install    PREFIX=/usr/local DESTDIR=...; make uninstall likewise
#   make deb        build/rnc_VERSION-1_ARCH.deb, checked by lintian
#   make pictures   docs/*.svg of the seed networks (Graphviz)
#   make check-import  every torchvision family through rnc --import (slow)
#
# Switches: SAN=1 builds into build-san/ with AddressSanitizer and
# UndefinedBehaviorSanitizer; CC=clang works as well as gcc.

CC      ?= cc
SAN     ?= 0
comma   := ,
OPT     ?= -O2
# BUILD may be set to keep parallel builds apart (make BUILD=build-x).
BUILD   ?= $(if $(filter 1,$(SAN)),build-san,build)
SANFLAGS := $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined -fno-sanitize-recover=all -fno-omit-frame-pointer,)

WARN    := -Wall -Wextra -pedantic
CFLAGS  := -std=c11 $(WARN) $(OPT) -g $(SANFLAGS) -Icompiler -Iruntime -I$(BUILD)
# Each object's header dependencies, written by the compiler (-MMD) with a
# phony target per header (-MP) so that a removed header breaks nothing.
DEPFLAGS := -MMD -MP
LDLIBS  := -ltcc -lprotobuf-c -ldl -lm -lpthread -lpng -ljpeg

# Sources: one file per stage; every .c in these folders is built.
COMPILER_SRC := $(filter-out compiler/main.c,$(wildcard compiler/*.c)) \
                $(wildcard compiler/passes/*.c)
# runtime/image*.c are librnimg.a's, apart from librnrt.a (see image: below).
IMAGE_SRC    := runtime/image.c runtime/image_decode.c
RUNTIME_SRC  := $(filter-out $(IMAGE_SRC),$(wildcard runtime/*.c))
UNIT_SRC     := $(wildcard tests/unit/*.c)
GEN_SRC      := $(BUILD)/parser.c $(BUILD)/lexer.c $(BUILD)/onnx.pb-c.c

COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:.c=.o)
RUNTIME_OBJ  := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
# The kernels again with AVX2 + FMA and with AVX-512 on x86-64, picked
# at run time (runtime/internal.h; the rules are at the end).
KERNEL_SRC   := direct winograd depthwise group elementwise
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
RUNTIME_OBJ  += $(KERNEL_SRC:%=$(BUILD)/runtime/%_avx2.o) \
                $(KERNEL_SRC:%=$(BUILD)/runtime/%_avx512.o)
endif
# What rnc and anything linking the compiler's objects (jit.o) need.
RT_LIBS      := $(BUILD)/librnimg.a $(BUILD)/librnrt.a
UNIT_OBJ     := $(UNIT_SRC:%.c=$(BUILD)/%.o)

all: $(BUILD)/rnc $(BUILD)/librnrt.a $(BUILD)/librnimg.a $(if $(filter build,$(BUILD)),rnc)

rnc: $(BUILD)/rnc
	ln -sf $(BUILD)/rnc rnc

$(BUILD)/rnc: $(BUILD)/compiler/main.o $(COMPILER_OBJ) $(RT_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/librnrt.a: $(RUNTIME_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/test_units: $(UNIT_OBJ) $(COMPILER_OBJ) $(RT_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ -lcunit $(LDLIBS)

# The grammar: reentrant flex and pure bison; generated C goes to $(BUILD).
$(BUILD)/parser.c $(BUILD)/parser.h: grammar/parser.y
	@mkdir -p $(BUILD)
	bison -Wall -Werror --defines=$(BUILD)/parser.h -o $(BUILD)/parser.c $<

$(BUILD)/lexer.c $(BUILD)/lexer.h: grammar/lexer.l $(BUILD)/parser.h
	@mkdir -p $(BUILD)
	flex --header-file=$(BUILD)/lexer.h -o $(BUILD)/lexer.c $<

# The ONNX protobuf parser (compiler/onnx.proto, protoc-c); its C is
# generated, so it goes to $(BUILD) like the grammar's.
$(BUILD)/onnx.pb-c.c: compiler/onnx.proto
	@mkdir -p $(BUILD)
	protoc-c --c_out=$(BUILD) --proto_path=compiler $<
$(BUILD)/onnx.pb-c.h: $(BUILD)/onnx.pb-c.c ;

$(BUILD)/onnx.pb-c.o: $(BUILD)/onnx.pb-c.c $(BUILD)/onnx.pb-c.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/parser.o: $(BUILD)/parser.c | $(BUILD)/lexer.h
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Generated scanners trip -Wunused-function etc.; they are not our code.
$(BUILD)/lexer.o: $(BUILD)/lexer.c
	$(CC) $(CFLAGS) $(DEPFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<

# The generated headers come first (order-only): the compiler's -MMD files
# then name the headers each object really includes.
$(BUILD)/%.o: %.c | $(BUILD)/parser.h $(BUILD)/lexer.h $(BUILD)/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The builds on every core (the tests themselves run one at a time).
NPROC   := $(shell nproc 2>/dev/null || echo 2)
test:
	$(MAKE) --no-print-directory -j$(NPROC) check-built
	$(MAKE) --no-print-directory check-once
	$(MAKE) --no-print-directory -j$(NPROC) SAN=1 BUILD=build-san check-built
	$(MAKE) --no-print-directory SAN=1 BUILD=build-san check-once

# One pass of the suite against $(BUILD): CUnit units, then end to end.
# What the pass runs (more prerequisites below, with their rules).
check-built: all $(BUILD)/test_units
check-once: check-built
	cd tests/unit && ../../$(BUILD)/test_units
	RNC=$(CURDIR)/$(BUILD)/rnc BUILD=$(CURDIR)/$(BUILD) SAN=$(SAN) tests/run_e2e.sh

demo: deps all
	tools/demo.sh

# A network trained for real (PyTorch, scikit-learn's digits), imported,
# compiled and checked against PyTorch's own predictions.
demo-trained:
	tools/deps.sh trained
	$(MAKE) --no-print-directory all
	tools/demo_trained.sh

# The bench's extra packages first: on a fresh machine the build needs
# deps.sh's too.
bench:
	tools/deps.sh bench
	$(MAKE) --no-print-directory all
	tools/bench.sh

# Every torchvision family through rnc --import, compared with PyTorch
# (slow: not part of make test). Needs python3-torchvision and python3-onnx.
check-import: all
	tools/deps.sh bench
	/usr/bin/python3 tools/check_import.py --rnc $(CURDIR)/$(BUILD)/rnc --trace

# Installs what a fresh Debian 12 lacks (as root, with apt-get).
deps:
	tools/deps.sh

clean:
	rm -rf build build-san build-portable build-san-portable build-aarch64 rnc

.PHONY: all test check-built check-once check-import demo demo-trained bench deps clean

# ---- rules a stage needs beyond the above, one section per stage ----
# jit: compiler/jit.c includes two generated files: the text of rnrt.h as
# bytes (od, as xxd may be missing), and the rn_* functions that rnrt.h
# declares and librnrt.a defines, handed to tcc by address. Included rather
# than linked so that jit.o itself pulls every runtime member in.
$(BUILD)/rnrt_h.inc: runtime/rnrt.h
	@mkdir -p $(BUILD)
	od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' > $@.tmp && mv $@.tmp $@

$(BUILD)/rnrt_syms.inc: runtime/rnrt.h $(BUILD)/librnrt.a
	$(CC) -E -P $< | grep -o 'rn_[A-Za-z0-9_]*[[:space:]]*(' | \
	    sed 's/[[:space:]]*($$//' | LC_ALL=C sort -u > $@.decl
	nm -g --defined-only $(BUILD)/librnrt.a | \
	    awk '$$2 ~ /^[TW]$$/ && $$3 ~ /^rn_/ { print $$3 }' | LC_ALL=C sort -u > $@.def
	LC_ALL=C comm -12 $@.decl $@.def | sed 's/.*/RN_SYM(&)/' > $@.tmp && mv $@.tmp $@
	rm -f $@.decl $@.def

$(BUILD)/compiler/jit.o: $(BUILD)/rnrt_h.inc $(BUILD)/rnrt_syms.inc

# standalone: the runtime's sources as bytes, one array per file and a
# table of them, for compiler/paste.c to cut into the parts a standalone
# model pastes (the kernel headers whole, the rest function by function).
STANDALONE_TEXT := runtime/rnrt.h runtime/json.h runtime/internal.h \
    runtime/kernel/rn_simd.h runtime/kernel/rn_micro.h runtime/kernel/rn_direct.h \
    runtime/kernel/rn_wino.h runtime/kernel/rn_dw.h runtime/kernel/rn_group.h \
    runtime/kernel/rn_elem.h runtime/kernels.c runtime/elem_pick.c \
    runtime/deconv.c runtime/util.c runtime/json.c runtime/safetensors.c \
    runtime/npy.c runtime/pool.c runtime/trace.c runtime/profile.c runtime/labels.c
$(BUILD)/runtime_text.inc: $(STANDALONE_TEXT)
	@mkdir -p $(BUILD)
	i=0; for f in $^; do echo "static const char runtime_text_$$i[] = {"; \
	    od -An -v -tx1 $$f | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo "0};"; \
	    i=$$((i + 1)); done > $@.tmp
	echo "static const RuntimeFile runtime_files[] = {" >> $@.tmp
	i=0; for f in $^; do echo "    {\"$$f\", runtime_text_$$i},"; i=$$((i + 1)); \
	    done >> $@.tmp
	echo "};" >> $@.tmp && mv $@.tmp $@

$(BUILD)/compiler/paste.o: $(BUILD)/runtime_text.inc

# numerics: npycmp compares a run's .npy with a golden (tests/e2e/numerics.sh).
$(BUILD)/npycmp: tests/tools/npycmp.c runtime/rnrt.h $(BUILD)/librnrt.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librnrt.a -lm

check-built: $(BUILD)/npycmp

# runtime:

# image: librnimg.a, images in (runtime/rnimg.h), decoded by libpng and
# libjpeg-turbo (Debian's libpng-dev, libjpeg62-turbo-dev). Apart from
# librnrt.a, so that a program that takes no image links no decoder:
# `rnc --libs` names it, and the two libraries under --as-needed.
$(BUILD)/librnimg.a: $(IMAGE_SRC:%.c=$(BUILD)/%.o)
	rm -f $@
	ar rcs $@ $^

# emit: the kernels are every model's hot loops; -O3 lets the compiler
# vectorize the elementwise ones too (the convolution picks AVX2 itself).
$(BUILD)/runtime/kernels.o $(BUILD)/runtime/elem_pick.o: CFLAGS += -O3

# fuzz: libFuzzer harnesses (tests/fuzz/), built with clang into build-fuzz/
# and run FUZZ_SECONDS each by tools/fuzz.sh, then DIFF_COUNT random
# programs through tests/e2e/differential.sh. The same harnesses linked
# with tests/fuzz/replay.c replay tests/fuzz/regressions/ in every suite
# pass (tests/e2e/fuzz.sh); gen_rn and refeval drive differential.sh.
FUZZ_SECONDS ?= 60
DIFF_COUNT   ?= 500
FUZZ_MAIN    ?= tests/fuzz/replay.c
FUZZ_LINK    ?=

$(BUILD)/fuzz/fixed.c: tests/fuzz/fixed.rn $(BUILD)/rnc
	@mkdir -p $(dir $@)
	$(BUILD)/rnc $< -o $@

$(BUILD)/fuzz/fuzz_frontend: tests/fuzz/fuzz_frontend.c $(FUZZ_MAIN) $(COMPILER_OBJ) $(RT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BUILD)/fuzz/fuzz_safetensors: tests/fuzz/fuzz_safetensors.c $(BUILD)/fuzz/fixed.c $(FUZZ_MAIN) $(BUILD)/librnrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -I$(BUILD)/fuzz -D_POSIX_C_SOURCE=200809L -include stdio.h -o $@ $(filter %.c %.a,$^) -lm -lpthread

$(BUILD)/fuzz/fuzz_npy: tests/fuzz/fuzz_npy.c $(FUZZ_MAIN) $(BUILD)/librnrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $(filter %.c %.a,$^) -lm

$(BUILD)/fuzz/fuzz_image: tests/fuzz/fuzz_image.c $(FUZZ_MAIN) $(RT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $(filter %.c %.a,$^) -lm -lpng -ljpeg

$(BUILD)/fuzz/fuzz_onnx: tests/fuzz/fuzz_onnx.c $(FUZZ_MAIN) $(COMPILER_OBJ) $(RT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -D_POSIX_C_SOURCE=200809L -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

$(BUILD)/gen_rn: tests/tools/gen_rn.c
	$(CC) $(CFLAGS) -o $@ $<

$(BUILD)/refeval: tests/tools/refeval.c $(COMPILER_OBJ) $(RT_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_keras: tests/fuzz/fuzz_keras.c $(FUZZ_MAIN) $(COMPILER_OBJ) $(RT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

FUZZ_BINS := $(BUILD)/fuzz/fuzz_frontend $(BUILD)/fuzz/fuzz_safetensors $(BUILD)/fuzz/fuzz_npy \
             $(BUILD)/fuzz/fuzz_onnx $(BUILD)/fuzz/fuzz_keras $(BUILD)/fuzz/fuzz_image
fuzz-bins: $(FUZZ_BINS)
check-built: $(FUZZ_BINS) $(BUILD)/gen_rn $(BUILD)/refeval

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) DIFF_COUNT=$(DIFF_COUNT) tools/fuzz.sh

.PHONY: fuzz fuzz-bins

# cross: the kernels' checks without CUnit (tests/tools/kernel_check.c),
# for builds of the runtime alone: `make BUILD=build-aarch64
# CC=aarch64-linux-gnu-gcc build-aarch64/kernel_check` (run under qemu),
# or OPT='-O2 -DRN_NO_SIMD' for the plain C path (tests/e2e/cross.sh).
$(BUILD)/kernel_check: tests/tools/kernel_check.c $(BUILD)/tests/unit/conv_check.o \
    $(BUILD)/tests/unit/elem_check.o $(BUILD)/librnrt.a
	$(CC) $(CFLAGS) -Itests/unit -o $@ $^ -lm -lpthread

# kernel: the convolution is nearly all of a CNN's time; bench_kernel times
# it on ResNet-34's layer shapes (tools/bench_kernel.sh).
# Under the sanitizers -O1: their checks need no speed, and at -O3 the
# kernels' unrolled copies took minutes to compile (group.c's AVX-512 copy
# 115 s, at -O1 20 s).
KERNEL_OPT := $(if $(filter 1,$(SAN)),-O1,-O3)
$(KERNEL_SRC:%=$(BUILD)/runtime/%.o) $(KERNEL_SRC:%=$(BUILD)/runtime/%_avx2.o) \
    $(KERNEL_SRC:%=$(BUILD)/runtime/%_avx512.o): CFLAGS += $(KERNEL_OPT)
$(BUILD)/runtime/%_avx2.o: runtime/%.c | $(BUILD)/parser.h $(BUILD)/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -mavx2 -mfma -DRN_ISA_AVX2 -c -o $@ $<
$(BUILD)/runtime/%_avx512.o: runtime/%.c | $(BUILD)/parser.h $(BUILD)/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -mavx512f -mavx2 -mfma -DRN_ISA_AVX512 -c -o $@ $<
$(BUILD)/bench_kernel: tools/bench_kernel.c runtime/rnrt.h $(BUILD)/librnrt.a
	$(CC) $(CFLAGS) -O3 -o $@ $< $(BUILD)/librnrt.a -lm -lpthread

# install: `make install [PREFIX=/usr/local] [DESTDIR=...]`, `make
# uninstall`, with GNU's directory variables. The installed rnc finds the
# runtime at bindir/../include and bindir/../lib (compiler/paths.c), so
# move prefix rather than includedir or libdir; rnrt.pc follows them all.
# Only the static librnrt.a: a model is built for the runtime of the rnc
# that generated it, and linked statically it keeps working across rnc
# upgrades; a shared library would need a stable ABI and a soname.
PREFIX       ?= /usr/local
prefix       ?= $(PREFIX)
exec_prefix  ?= $(prefix)
bindir       ?= $(exec_prefix)/bin
libdir       ?= $(exec_prefix)/lib
includedir   ?= $(prefix)/include
datarootdir  ?= $(prefix)/share
mandir       ?= $(datarootdir)/man
man1dir      ?= $(mandir)/man1
docdir       ?= $(datarootdir)/doc/rnc
pkgconfigdir ?= $(libdir)/pkgconfig
bashcompdir  ?= $(datarootdir)/bash-completion/completions
INSTALL      ?= install
MKDIR_P      ?= mkdir -p
INSTALL_PROGRAM ?= $(INSTALL) -m 755
INSTALL_DATA    ?= $(INSTALL) -m 644
VERSION      := $(shell sed -n 's/^\#define RNC_VERSION "\(.*\)"/\1/p' compiler/rnc.h)
# README.md, docs/ and examples/ keep their layout in docdir, so the
# README's links work.
DOC_FILES    := README.md $(wildcard docs/*.md docs/*.svg examples/*.rn)

install: all
	sed -e 's|@prefix@|$(prefix)|; s|@libdir@|$(libdir)|' \
	    -e 's|@includedir@|$(includedir)|; s|@version@|$(VERSION)|' \
	    packaging/rnrt.pc.in > $(BUILD)/rnrt.pc
	$(MKDIR_P) $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) \
	    $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(man1dir) \
	    $(DESTDIR)$(docdir)/docs $(DESTDIR)$(docdir)/examples \
	    $(DESTDIR)$(bashcompdir)
	$(INSTALL_PROGRAM) $(BUILD)/rnc $(DESTDIR)$(bindir)/rnc
	$(INSTALL_DATA) $(BUILD)/librnrt.a $(DESTDIR)$(libdir)/librnrt.a
	$(INSTALL_DATA) $(BUILD)/librnimg.a $(DESTDIR)$(libdir)/librnimg.a
	$(INSTALL_DATA) runtime/rnrt.h $(DESTDIR)$(includedir)/rnrt.h
	$(INSTALL_DATA) runtime/rnimg.h $(DESTDIR)$(includedir)/rnimg.h
	$(INSTALL_DATA) $(BUILD)/rnrt.pc $(DESTDIR)$(pkgconfigdir)/rnrt.pc
	$(INSTALL_DATA) man/rnc.1 $(DESTDIR)$(man1dir)/rnc.1
	$(INSTALL_DATA) packaging/rnc.bash-completion $(DESTDIR)$(bashcompdir)/rnc
	$(INSTALL_DATA) README.md $(DESTDIR)$(docdir)/README.md
	$(INSTALL_DATA) $(filter docs/%,$(DOC_FILES)) $(DESTDIR)$(docdir)/docs/
	$(INSTALL_DATA) $(filter examples/%,$(DOC_FILES)) $(DESTDIR)$(docdir)/examples/

# Removes what install put there (and the doc folders, once empty).
uninstall:
	rm -f $(DESTDIR)$(bindir)/rnc $(DESTDIR)$(libdir)/librnrt.a \
	    $(DESTDIR)$(libdir)/librnimg.a $(DESTDIR)$(includedir)/rnimg.h \
	    $(DESTDIR)$(includedir)/rnrt.h $(DESTDIR)$(pkgconfigdir)/rnrt.pc \
	    $(DESTDIR)$(man1dir)/rnc.1 $(DESTDIR)$(bashcompdir)/rnc \
	    $(addprefix $(DESTDIR)$(docdir)/,$(DOC_FILES))
	-rmdir $(DESTDIR)$(docdir)/docs $(DESTDIR)$(docdir)/examples \
	    $(DESTDIR)$(docdir) 2>/dev/null

# deb: build/rnc_VERSION-1_ARCH.deb, a staged `make install PREFIX=/usr`
# packed by dpkg-deb and checked by lintian where installed
# (packaging/make_deb.sh; the control file says what it depends on).
deb: all
	rm -rf $(BUILD)/deb
	umask 022 && $(MAKE) --no-print-directory install PREFIX=/usr \
	    DESTDIR=$(abspath $(BUILD))/deb >/dev/null
	packaging/make_deb.sh $(BUILD)/deb $(BUILD) $(VERSION)

# pictures: the seed networks drawn by Graphviz for the README.
PICTURES := small_residual resnet34
pictures: $(BUILD)/rnc
	for m in $(PICTURES); do \
	    $(BUILD)/rnc --dot examples/$$m.rn > $(BUILD)/$$m.dot && \
	    dot -Tsvg -o docs/$$m.svg.tmp $(BUILD)/$$m.dot && \
	    mv docs/$$m.svg.tmp docs/$$m.svg || exit 1; \
	done

.PHONY: install uninstall deb pictures
