# Herald: the two commands of the README, plus a few for developers.
#   make run    install what is missing, build (Release), serve on ./data with demo data
#   make test   install what is missing, build, run every test (Release, then ASan+UBSan)
#   make bench  engine benchmarks; figures go to docs/PERFORMANCE.md by hand
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan
CMAKE_FLAGS ?=

.PHONY: run test deps build build-asan test-release test-asan bench fuzz format clean

deps:
	@bash scripts/install-deps

build: deps
	@cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

run: build
	@mkdir -p data
	$(RELEASE)/herald serve --demo

test-release: build
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-asan: build-asan
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 600

test: test-release test-asan

bench: build
	@bash scripts/install-deps --bench
	$(RELEASE)/herald bench jobs --jobs 200000 --concurrency 2
	$(RELEASE)/herald bench jobs --jobs 200000 --concurrency 2 --sync full
	$(RELEASE)/herald bench memory --jobs 1000000
	$(RELEASE)/micro_bench
	bench/smtp_bench.sh $(RELEASE)/herald 10000 5
	$(RELEASE)/herald bench sms --notifications 10000 --rate 1000
	$(RELEASE)/herald bench sms --notifications 10000
	$(RELEASE)/herald bench documents --tickets 10000
	$(RELEASE)/herald bench tickets --tickets 10000
	bench/pdfkit_bench.sh 10000
	bench/scan_bench.sh $(RELEASE)/herald 10 16 32 64

fuzz: deps
	@cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DHERALD_FUZZ=ON \
	  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build/fuzz -j $(JOBS) --target cron_fuzz job_fuzz core_fuzz jwt_fuzz request_fuzz \
	  mustache_fuzz sms_segments_fuzz mime_fuzz twilio_callback_fuzz meta_webhook_fuzz webhook_signature_fuzz \
	  xlsx_fuzz docs_fuzz ticket_code_fuzz guest_csv_fuzz
	for f in cron_fuzz job_fuzz core_fuzz jwt_fuzz request_fuzz mustache_fuzz sms_segments_fuzz \
	  mime_fuzz twilio_callback_fuzz meta_webhook_fuzz webhook_signature_fuzz xlsx_fuzz \
	  docs_fuzz ticket_code_fuzz guest_csv_fuzz; do build/fuzz/$$f -max_total_time=$${FUZZ_SECONDS:-60} || exit 1; done

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build
