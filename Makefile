# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: help install index run test test-fast browser-deps eval bench bench-large bench-ray scale scale-lexical load-test train-reader-stage1 train-reader-stage2 train-reader train-reader-continue train-reader-abstain ship-reader train-reader-tiny fit-ranker clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel on this machine (a bare "torch" would pull a CUDA build).
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create/update .venv (idempotent)

index: install  ## build or update the index of seeds/ in embeddings/
	$(PY) -m qa index --corpus seeds --index-dir embeddings

run: index  ## install, index the seeds if needed, start the chat on http://127.0.0.1:7860 (HOST=, PORT=)
	$(PY) app.py --corpus seeds --index-dir embeddings --host $(HOST) --port $(PORT)

browser-deps:  ## Debian's chromium for the browser test (Playwright's own download does not work here)
	@if [ -x /usr/bin/chromium ]; then echo "chromium present: $$(/usr/bin/chromium --version)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium missing: run 'sudo apt-get install chromium' (the browser test will be skipped)"; fi

test: install browser-deps  ## the whole test suite (unit, real-model, browser; starts its own milvus-lite server on loopback)
	$(PY) -m pytest -q; code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests: that is a failure"; fi; exit $$code

test-fast: install  ## unit tests only (no real models, no browser)
	$(PY) -m pytest -q -m "not slow and not browser"

eval: install  ## evaluate on the seed question set; writes reports/eval.md
	$(PY) -m qa evaluate qa/eval/seed_questions.jsonl --corpus seeds --index-dir embeddings --report reports/eval.md

bench: install  ## benchmarks on SQuAD / SQuADShifts from ../shared/data; writes reports/bench.md
	$(PY) scripts/bench.py --out reports/bench.md

# Vectors and indexes of the large benchmarks live outside the repo: QA_BENCH_CACHE (default /work/cache/issue15).
bench-large: install  ## 20,963 SQuAD paragraphs end to end, FAISS and Milvus Lite side by side -> reports/bench_large.md (embedding once ~1-2 h at nice, then ~35 min with the training paused)
	nice -n 5 $(PY) scripts/bench_large.py embed --quiet
	$(PY) scripts/bench_large.py all --quiet

bench-ray: install  ## bulk indexing on Ray: chunks/s with 1 and 2 workers beside the single process -> reports/bench_ray.md (~4 min, training paused)
	scripts/with_training_paused.sh $(PY) scripts/bench_ray.py $(BENCH_RAY_ARGS)

scale: install  ## search latency, RAM and recall at 50k / 200k / 1M passages -> reports/scale.md (needs bench-large's vector cache; build ~40 min at nice, timings ~10 min paused)
	nice -n 5 $(PY) scripts/scale.py build $(SCALE_BUILD_ARGS)
	scripts/with_training_paused.sh $(PY) scripts/scale.py time

scale-lexical: install  ## BM25 updated in place vs bm25s and tantivy, dense re-scoring, hybrid at 200k / 1M passages (synthetic, nothing embedded) -> reports/scale_lexical.md (~30 min on 2 idle cores)
	nice -n 5 $(PY) scripts/scale_lexical.py lexical --sizes 200000,1000000
	nice -n 5 $(PY) scripts/scale_lexical.py tantivy --sizes 200000,1000000
	nice -n 5 $(PY) scripts/scale_lexical.py dense --size 1000000 --hnsw-size 200000
	nice -n 5 $(PY) scripts/scale_lexical.py dense --size 1000000 --reuse --nprobes 512,1024 --rescores 0
	nice -n 5 $(PY) scripts/scale_lexical.py hybrid --size 1000000 --settings 128x0,256x0,256x4,512x4
	$(PY) scripts/scale_lexical.py report

load-test: install  ## 20 logged-in chat clients for 60 s, the app before and now side by side; writes reports/load.md
	$(PY) scripts/load_test.py --serve --before --clients 20 --seconds 60 --out reports/load.md

train-reader-stage1: install  ## reader stage 1, from the packaged encoder (~1.5 h on 2 cores; resumable) -> runs/reader
	mkdir -p runs/reader
	# Resumes from runs/reader/last.pt when present; OMP_WAIT_POLICY=PASSIVE keeps idle threads off the cores.
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader.json \
		--out runs/reader --resume 2>&1 | tee -a runs/reader/train.log

train-reader-stage2: train-reader-stage1  ## reader stage 2 from stage 1 (~1 h; resumable) -> runs/reader2
	mkdir -p runs/reader2
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader_stage2.json \
		--out runs/reader2 --resume 2>&1 | tee -a runs/reader2/train.log

train-reader: train-reader-stage2  ## the shipped reader: stages 1 and 2, then stage 3 on all of SQuAD (~7 h; resumable); export, clean-span rules, answer rankers, evaluate
	mkdir -p runs/reader_squad
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader_squad.json \
		--out runs/reader_squad --resume 2>&1 | tee -a runs/reader_squad/train.log
	$(MAKE) ship-reader

train-reader-continue: install  ## stage 3 again from the committed weights when runs/ is gone (a fresh schedule; resumable)
	mkdir -p runs/reader_squad
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader_squad.json \
		--out runs/reader_squad --init-from qa/reader/weights --resume 2>&1 | tee -a runs/reader_squad/train.log

train-reader-abstain: install  ## reader stage 4 (issue 21): the shipped reader on the stage-3 data plus made-up unanswerable questions (resumable; STOP_AT=HH:MM UTC decays the rate to 0 then) -> runs/reader_abstain
	mkdir -p runs/reader_abstain
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader_abstain.json \
		--out runs/reader_abstain --resume $(if $(STOP_AT),--stop-at $(STOP_AT),) 2>&1 | tee -a runs/reader_abstain/train.log

ship-reader: install  ## export runs/reader_squad/best.pt as the shipped reader, measure its clean-span rules, fit its rankers, evaluate
	$(PY) -m qa.training.export --ckpt runs/reader_squad/best.pt --out qa/reader/weights
	$(PY) scripts/decode_rules.py --write-meta
	$(PY) scripts/fit_ranker.py
	$(PY) scripts/fit_ranker.py --reader span-fast
	$(PY) scripts/eval_reader.py --write-meta

train-reader-tiny: install  ## span-tiny: distil the 6-layer reader (runs/reader2, from make train-reader) into 3 layers (~80 min; resumable); export, fit its ranker, evaluate
	mkdir -p runs/reader_tiny
	nice -n 10 env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 $(PY) -m qa.training.train --config configs/reader_tiny.json \
		--out runs/reader_tiny --resume 2>&1 | tee -a runs/reader_tiny/train.log
	$(PY) -m qa.training.train export --ckpt runs/reader_tiny/last.pt --out qa/reader/weights_tiny
	$(PY) scripts/fit_ranker.py --reader span-tiny
	$(PY) scripts/eval_reader.py --write-meta

fit-ranker: install  ## fit the answer rankers of span and span-fast (reader score + retrieval ranks) on the tuning split into qa/reader/weights (~15 min)
	$(PY) scripts/fit_ranker.py
	$(PY) scripts/fit_ranker.py --reader span-fast

clean:  ## remove caches (keeps .venv and the index)
	rm -rf .pytest_cache build dist *.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
