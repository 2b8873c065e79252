# fogbank - one GNU Makefile, gcc or clang.
#   make            build/fogbank
#   make run        setup, build, start on 127.0.0.1:4566 with state in ./data
#   make test       everything CI runs (unit + e2e, then the ASan+UBSan pass and fuzz smoke)
#   make bench      benchmarks (wrk, side by side with moto_server)
#   SAN=1           build into build-san/ with -fsanitize=address,undefined
CC ?= gcc
ifeq ($(CC),cc)
CC := gcc
endif
SAN ?=
BUILD := build$(if $(SAN),-san,)
CFLAGS_BASE := -std=c11 -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	-Wno-unused-parameter -Isrc -D_GNU_SOURCE -MMD -MP
ifeq ($(SAN),1)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
else
OPT := -O2
LDSAN :=
endif
# Non-PIE: the generated model tables (~1,600 operations, 8,000 shapes) are
# full of pointers; in a PIE every one is relocated at start, which dirties
# ~2 MB and costs start time. Non-PIE keeps them clean, shared file pages
# (idle RSS 10.0 -> 7.9 MiB). Shared libraries keep their ASLR.
PIE := -fno-pie
LDPIE := -no-pie -Wl,-z,nodynamic-undefined-weak
CFLAGS ?=
CFLAGS += $(CFLAGS_BASE) $(OPT) $(PIE)
LDLIBS := -lsqlite3 -lssl -lcrypto -lz -lm

# fogbank-init (src/runtime/init.c) is a separate static program
INIT_SRC := src/runtime/init.c
SRC := $(filter-out $(INIT_SRC),$(shell find src -name '*.c' | sort))
LIB_SRC := $(filter-out src/main.c,$(SRC))
OBJ := $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(shell find tests/unit -name '*.c' | sort)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

.PHONY: all run test test-fast fuzz-bins fuzz-smoke fuzz bench format format-check gen gen-check setup clean
all: $(BUILD)/fogbank

# fogbank-init goes with every fogbank: ECS runs it first in runc containers
$(BUILD)/fogbank: $(OBJ) | $(BUILD)/fogbank-init
	$(CC) $(LDSAN) $(LDPIE) -o $@ $^ $(LDLIBS)

# static (images need not have a libc) and never sanitized
$(BUILD)/fogbank-init: $(INIT_SRC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

$(BUILD)/unit_tests: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(LDSAN) $(LDPIE) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

setup:
	@sh scripts/setup.sh

run: setup all
	$(BUILD)/fogbank up --data-dir ./data

# test: the normal build (unit + e2e), then the sanitizer build, then fuzz smoke.
test: setup
	/usr/bin/python3 tests/run.py --all

test-fast: $(BUILD)/fogbank $(BUILD)/unit_tests
	/usr/bin/python3 tests/run.py --build $(BUILD)

fuzz-bins: $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@sh tests/fuzz/smoke.sh 20

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/smoke.sh $${FUZZ_SECONDS:-600}

# Fuzz targets share one set of instrumented objects.
FUZZ_CFLAGS := -std=c11 -g -O1 -Isrc -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

build-fuzz/%: build-fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJ)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# the HTTP/1.1 load generator of the 1 MiB S3 figures (bench/s3_bench.py
# finds it next to fogbank); built for bench only
$(BUILD)/loadgen: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) $(LDPIE) -pthread -o $@ $<

bench: setup $(BUILD)/fogbank $(BUILD)/loadgen
	/usr/bin/python3 bench/bench.py $(BUILD)/fogbank
	/usr/bin/python3 bench/cache_bench.py $(BUILD)/fogbank
	/usr/bin/python3 bench/ecs_bench.py $(BUILD)/fogbank
	/usr/bin/python3 bench/s3_bench.py $(BUILD)/fogbank
	/usr/bin/python3 bench/rds_bench.py $(BUILD)/fogbank

gen:
	/usr/bin/python3 tools/gen_ops.py

gen-check:
	/usr/bin/python3 tools/gen_ops.py --check

FORMAT_SRC = $(filter-out src/aws/gen/%,$(SRC) $(INIT_SRC) $(shell find src tests -name '*.h') $(UNIT_SRC) \
	$(wildcard tests/fuzz/*.c))
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build build-san build-fuzz

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
