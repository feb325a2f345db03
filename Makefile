# vfio.migration: set-up, demo and tests. `make demo` and `make test` are all a fresh machine needs.
#
# Every tool runs from a virtualenv this Makefile creates under .venvs/ (one per ansible-core
# version, plus ansible-lint and antsibull-changelog), installed with plain `pip install` from the
# pinned lists in tools/requirements/. A stamp file per venv makes the second run skip the install.
# ansible-test needs the collection at .../ansible_collections/vfio/migration: each ansible-test job
# gets its own copy of the checkout (tracked and untracked-but-not-ignored files) under
# build/<job>/ansible_collections/vfio/migration, so that `make test` can run the jobs side by side.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# ansible-core versions the collection is tested with; the newest runs everything.
CORE_VERSIONS := 2.16 2.17 2.18 2.19
NEWEST := 2.19
CORE ?= $(NEWEST)
PY_VERSION := 3.11
# jobs `make test` / `make matrix` run at once
JOBS ?= 2

TOP := $(CURDIR)
VENVS := $(TOP)/.venvs
SIM_OUT := $(TOP)/tests/sim/build
SIM := $(TOP)/tests/sim/simhost.py
INVENTORY := $(TOP)/tests/sim/inventory.yml
DEV_COLLECTIONS := $(TOP)/build/dev-collections

venv = $(VENVS)/$(1)
bin = $(VENVS)/$(1)/bin
# the collection copy of one ansible-test job
coll = $(TOP)/build/$(1)/ansible_collections/vfio/migration
# ansible-test of one ansible-core version, with that venv first on PATH
ansible_test = PATH="$(call bin,core-$(1)):$$PATH" $(call bin,core-$(1))/ansible-test

venv_stamps := $(foreach v,$(CORE_VERSIONS),$(VENVS)/core-$(v)/.stamp) $(VENVS)/lint/.stamp $(VENVS)/changelog/.stamp
integration_jobs := $(addprefix integration-,$(CORE_VERSIONS))

.PHONY: help demo test test-kernel matrix sanity units integration $(integration_jobs) lint changelog-lint \
        build browser ee sim bench bench-compare venvs prepare dev-collections clean

help:
	@echo "make demo         gather vfio facts from every simulated host and print a summary table"
	@echo "make test         everything: matrix, lint, changelog lint, build, browser (+ test-kernel if VFIO_TEST_KERNEL=1; =auto: if module or lane changed since its stamp)"
	@echo "make matrix       integration on ansible-core $(filter-out $(NEWEST),$(CORE_VERSIONS)); units, sanity, integration on $(NEWEST)"
	@echo "make sanity | units | integration [CORE=2.16] | lint | changelog-lint | build | ee | sim | bench | test-kernel | clean"
	@echo "make bench [BASE=4388032]  every benchmark, then before/after: BASE's tree and this one timed in the same run"
	@echo "make bench-compare [BASE=...]  only the before/after table"

# ---------------------------------------------------------------- virtualenvs
$(VENVS)/%/.stamp: tools/requirements/%.txt
	rm -rf $(call venv,$*)
	$(PYTHON) -m venv $(call venv,$*)
	$(call bin,$*)/pip install --quiet -r $<
	touch $@

venvs: $(venv_stamps)

# Everything the parallel jobs share, made once before they start: the venvs, and ansible-test's
# pip bootstrap. ansible-test's own venvs (sanity, units) install pip with a get-pip.py it downloads
# from a host this machine cannot reach unless the script is in its cache; give it our stand-in
# (ensurepip, then pip) under the name each release asks for.
# ansible-test integration also makes its SSH key pair on first use; two parallel jobs would race
# for it, so make it here the way ansible-test does (core_ci.py: SshKey.generate_key_pair).
ANSIBLE_TEST_KEY := $(HOME)/.ansible/test/id_rsa

prepare: venvs
	@for v in $(CORE_VERSIONS); do $(call bin,core-$$v)/python tools/get_pip_offline.py --seed; done
	@if [ ! -f $(ANSIBLE_TEST_KEY) ] || [ ! -f $(ANSIBLE_TEST_KEY).pub ]; then \
	  mkdir -p $(dir $(ANSIBLE_TEST_KEY)) && rm -f $(ANSIBLE_TEST_KEY) $(ANSIBLE_TEST_KEY).pub && \
	  ssh-keygen -m PEM -q -t rsa -N '' -f $(ANSIBLE_TEST_KEY) && \
	  sed -i 's/\(BEGIN\|END\) PRIVATE KEY/\1 RSA PRIVATE KEY/' $(ANSIBLE_TEST_KEY); fi

# ---------------------------------------------------------------- collection copies for ansible-test
# $(call copy_collection,JOB): start clean, but keep ansible-test's output (its delegation venv lives
# there); ansible-test lists content with git, and without a repository in the copy it would see
# the parent checkout, where build/ is ignored.
define copy_collection
mkdir -p $(call coll,$(1))/tests
find $(call coll,$(1)) -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
find $(call coll,$(1))/tests -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
git ls-files -z --cached --others --exclude-standard \
  | xargs -0 sh -c 'for f; do if [ -e "$$f" ]; then printf "%s\0" "$$f"; fi; done' - \
  | tar --null --files-from=- --create --file=- \
  | tar --extract --file=- --directory=$(call coll,$(1))
test -d $(call coll,$(1))/.git || git -C $(call coll,$(1)) init --quiet
endef

# ---------------------------------------------------------------- simulated hosts
sim: $(VENVS)/core-$(NEWEST)/.stamp
	$(call bin,core-$(NEWEST))/python $(SIM) build tests/sim/hosts/*.yml --out $(SIM_OUT)

# ---------------------------------------------------------------- demo
# The demo and ansible-lint read the collection from the checkout itself, through a symlink.
dev-collections:
	mkdir -p $(DEV_COLLECTIONS)/ansible_collections/vfio
	ln -sfn $(TOP) $(DEV_COLLECTIONS)/ansible_collections/vfio/migration

demo: sim dev-collections
	ANSIBLE_COLLECTIONS_PATH=$(DEV_COLLECTIONS) ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_NOCOLOR=1 \
	  $(call bin,core-$(NEWEST))/ansible-playbook -i $(INVENTORY) playbooks/demo.yml

# ---------------------------------------------------------------- tests
# The HTML report of the simulated fleet in a real headless Chromium (Debian's chromium package).
browser: $(VENVS)/core-$(NEWEST)/.stamp
	PYTHON=$(call bin,core-$(NEWEST))/python bash tests/browser/run.sh

units: prepare
	$(call copy_collection,units)
	cd $(call coll,units) && $(call ansible_test,$(NEWEST)) units --venv --python $(PY_VERSION) --color no
	cd $(call coll,units) && PYTHONPATH=$(TOP)/build/units $(call bin,core-$(NEWEST))/python -m pytest -q -p no:cacheprovider \
	  tests/sim tests/kernel tests/captures

sanity: prepare
	$(call copy_collection,sanity)
	cd $(call coll,sanity) && $(call ansible_test,$(NEWEST)) sanity --venv --python $(PY_VERSION) --color no

integration: prepare
	$(call copy_collection,integration-$(CORE))
	cd $(call coll,integration-$(CORE)) && $(call ansible_test,$(CORE)) integration --local --python $(PY_VERSION) --color no

$(integration_jobs): integration-%:
	$(MAKE) --no-print-directory integration CORE=$*

# Integration on every version, units and sanity on the newest; $(JOBS) at a time, each job's
# output printed in one piece when it ends.
matrix: prepare
	$(MAKE) --no-print-directory --keep-going -j$(JOBS) --output-sync=target units sanity $(integration_jobs)

lint: $(VENVS)/lint/.stamp dev-collections
	PATH="$(call bin,lint):$$PATH" ANSIBLE_COLLECTIONS_PATH=$(DEV_COLLECTIONS) ansible-lint

changelog-lint: $(VENVS)/changelog/.stamp
	$(call bin,changelog)/antsibull-changelog lint

# Build the tarball from a clean copy, install it somewhere new, and use it from there.
build: prepare sim
	$(call copy_collection,galaxy-src)
	rm -rf $(TOP)/build/galaxy && mkdir -p $(TOP)/build/galaxy/dist
	$(call bin,core-$(NEWEST))/ansible-galaxy collection build --output-path $(TOP)/build/galaxy/dist $(call coll,galaxy-src)
	$(call bin,core-$(NEWEST))/ansible-galaxy collection install -p $(TOP)/build/galaxy/collections \
	  $(TOP)/build/galaxy/dist/vfio-migration-*.tar.gz 2>&1 | sed '/is not part of the configured/d'
	cd $(TOP)/build/galaxy && export ANSIBLE_COLLECTIONS_PATH=$(TOP)/build/galaxy/collections ANSIBLE_NOCOLOR=1; \
	  $(call bin,core-$(NEWEST))/ansible-doc vfio.migration.vfio_facts > doc.txt; \
	  grep -q 'galaxy/collections/ansible_collections/vfio/migration/plugins/modules/vfio_facts.py' doc.txt; \
	  $(call bin,core-$(NEWEST))/ansible localhost -m vfio.migration.vfio_facts \
	    -a 'sysfs_root=$(SIM_OUT)/t4-a/sys proc_root=$(SIM_OUT)/t4-a/proc dev_root=$(SIM_OUT)/t4-a/dev' > adhoc.txt 2>&1; \
	  grep -q '"vm": "web-01"' adhoc.txt
	@echo "build: $$(cd $(TOP)/build/galaxy/dist && ls vfio-migration-*.tar.gz) installs; ansible-doc and vfio_facts run from the installed copy"

# An execution environment with the collection: ansible-builder (from tools/requirements/ee.txt) makes
# its build context (no image is built) and tests/ee checks it finds meta/execution-environment.yml.
ee: $(VENVS)/ee/.stamp
	$(call bin,ee)/python -m pytest -q -p no:cacheprovider tests/ee

test-kernel:
	if [ -f tests/kernel/run.sh ]; then bash tests/kernel/run.sh; \
	else echo "test-kernel: no tests/kernel/run.sh, nothing to do"; fi

test: prepare
	$(MAKE) --no-print-directory --keep-going -j$(JOBS) --output-sync=target units sanity $(integration_jobs) lint changelog-lint build browser ee
	case "$${VFIO_TEST_KERNEL:-0}" in \
	  1) $(MAKE) --no-print-directory test-kernel ;; \
	  auto) $(PYTHON) tests/kernel/stamp.py check || $(MAKE) --no-print-directory test-kernel ;; \
	  0) ;; \
	  *) echo "kernel lane: VFIO_TEST_KERNEL=$$VFIO_TEST_KERNEL is not 0, 1 or auto, not run" ;; \
	esac
	@echo "make test: all passed"

# Every benchmark in benchmarks/ (bench_*.py), each run by the venv's python (it finds ansible-*
# beside it, not on PATH); each prints ratios to a baseline measured in the same run. A benchmark
# that fails or misses its target does not stop the others; `make bench` fails at the end. On demand.
# Then before/after (benchmarks/compare.py): the main measurements of the benchmarks on the tree of
# commit BASE and on this tree, alternating in one run, as a table. BASE defaults to 4388032, main
# just before the hardening of issue #10 was merged (which asks that performance does not regress
# against it); its tree is extracted into benchmarks/output/base/. Skipped with a message when
# BASE is not in the history (shallow clone).
BENCHMARKS := $(sort $(wildcard benchmarks/bench_*.py))
BASE ?= 4388032
bench: $(VENVS)/core-$(NEWEST)/.stamp
	@failed=; for b in $(BENCHMARKS); do echo "== $$b"; \
	  $(call bin,core-$(NEWEST))/python $$b || failed="$$failed $$b"; echo; done; \
	echo "== benchmarks/compare.py --base $(BASE)"; \
	$(call bin,core-$(NEWEST))/python benchmarks/compare.py --base $(BASE) || failed="$$failed benchmarks/compare.py"; \
	if [ -n "$$failed" ]; then echo "failed or missed a target:$$failed"; exit 1; fi

bench-compare: $(VENVS)/core-$(NEWEST)/.stamp
	$(call bin,core-$(NEWEST))/python benchmarks/compare.py --base $(BASE)

clean:
	rm -rf $(TOP)/build $(SIM_OUT) $(TOP)/tests/output $(TOP)/benchmarks/output
