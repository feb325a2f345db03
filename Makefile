# vfio.migration: set-up, demo and tests. `make demo` and `make test` are all a fresh machine needs.
#
# Every tool runs from a virtualenv this Makefile creates under .venvs/ (one per ansible-core
# version, plus ansible-lint and antsibull-changelog), installed with plain `pip install` from the
# pinned lists in tools/requirements/. A stamp file per venv makes the second run skip the install.
# ansible-test needs the collection at .../ansible_collections/vfio/migration: `collection` copies
# the checkout (tracked and untracked-but-not-ignored files) to build/ansible_collections/vfio/migration.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# ansible-core versions the collection is tested with; the newest runs everything.
CORE_VERSIONS := 2.16 2.17 2.18 2.19
NEWEST := 2.19
CORE ?= $(NEWEST)
PY_VERSION := 3.11

TOP := $(CURDIR)
VENVS := $(TOP)/.venvs
COLL := $(TOP)/build/ansible_collections/vfio/migration
SIM_OUT := $(TOP)/tests/sim/build
SIM := $(TOP)/tests/sim/simhost.py
INVENTORY := $(TOP)/tests/sim/inventory.yml

venv = $(VENVS)/$(1)
bin = $(VENVS)/$(1)/bin
core_stamps := $(foreach v,$(CORE_VERSIONS),$(VENVS)/core-$(v)/.stamp)

# ansible-test's own virtualenvs (sanity, units) bootstrap pip from a download; pre-seed its cache.
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache
ANSIBLE_TEST := PATH="$(call bin,core-$(CORE)):$$PATH" $(call bin,core-$(CORE))/ansible-test
ANSIBLE_TEST_NEWEST := PATH="$(call bin,core-$(NEWEST)):$$PATH" $(call bin,core-$(NEWEST))/ansible-test

.PHONY: help demo test test-kernel matrix sanity units integration lint changelog-lint build sim bench \
        collection venvs dev-collections clean

help:
	@echo "make demo         gather vfio facts from every simulated host and print a summary table"
	@echo "make test         everything: matrix, lint, changelog lint, build (+ test-kernel if VFIO_TEST_KERNEL=1)"
	@echo "make matrix       integration on ansible-core $(filter-out $(NEWEST),$(CORE_VERSIONS)); units, sanity, integration on $(NEWEST)"
	@echo "make sanity | units | integration [CORE=2.16] | lint | changelog-lint | build | sim | bench | test-kernel | clean"

# ---------------------------------------------------------------- virtualenvs
$(VENVS)/%/.stamp: tools/requirements/%.txt
	rm -rf $(call venv,$*)
	$(PYTHON) -m venv $(call venv,$*)
	$(call bin,$*)/pip install --quiet -r $<
	touch $@

venvs: $(core_stamps) $(VENVS)/lint/.stamp $(VENVS)/changelog/.stamp

# ---------------------------------------------------------------- collection copy for ansible-test
collection:
	mkdir -p $(COLL)/tests
	@# start clean, but keep ansible-test's output (its delegation venv lives there) and the git marker
	find $(COLL) -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
	find $(COLL)/tests -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
	git ls-files -z --cached --others --exclude-standard \
	  | xargs -0 sh -c 'for f; do if [ -e "$$f" ]; then printf "%s\0" "$$f"; fi; done' - \
	  | tar --null --files-from=- --create --file=- \
	  | tar --extract --file=- --directory=$(COLL)
	@# ansible-test lists content with git; without a repository here it would see the parent checkout
	test -d $(COLL)/.git || git -C $(COLL) init --quiet

# ansible-test pins one pip version per release; give it our stand-in under that name.
ansible-test-cache-%: $(VENVS)/core-%/.stamp
	$(call bin,core-$*)/python tools/get_pip_offline.py --seed

# ---------------------------------------------------------------- simulated hosts
sim: $(VENVS)/core-$(NEWEST)/.stamp
	$(call bin,core-$(NEWEST))/python $(SIM) build tests/sim/hosts/*.yml --out $(SIM_OUT)

# ---------------------------------------------------------------- demo
# The demo and ansible-lint read the collection from the checkout itself, through a symlink.
DEV_COLLECTIONS := $(TOP)/build/dev-collections

dev-collections:
	mkdir -p $(DEV_COLLECTIONS)/ansible_collections/vfio
	ln -sfn $(TOP) $(DEV_COLLECTIONS)/ansible_collections/vfio/migration

demo: sim dev-collections
	ANSIBLE_COLLECTIONS_PATH=$(DEV_COLLECTIONS) ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_NOCOLOR=1 \
	  $(call bin,core-$(NEWEST))/ansible-playbook -i $(INVENTORY) playbooks/demo.yml

# ---------------------------------------------------------------- tests
units: collection $(VENVS)/core-$(NEWEST)/.stamp ansible-test-cache-$(NEWEST)
	cd $(COLL) && $(ANSIBLE_TEST_NEWEST) units --venv --python $(PY_VERSION) --color no
	if ls tests/sim/test_*.py >/dev/null 2>&1; then \
	  cd $(COLL) && $(call bin,core-$(NEWEST))/python -m pytest -q -p no:cacheprovider tests/sim; fi

sanity: collection $(VENVS)/core-$(NEWEST)/.stamp ansible-test-cache-$(NEWEST)
	cd $(COLL) && $(ANSIBLE_TEST_NEWEST) sanity --venv --python $(PY_VERSION) --color no

integration: collection $(VENVS)/core-$(CORE)/.stamp
	cd $(COLL) && $(ANSIBLE_TEST) integration --local --python $(PY_VERSION) --color no

matrix:
	for v in $(filter-out $(NEWEST),$(CORE_VERSIONS)); do $(MAKE) --no-print-directory integration CORE=$$v; done
	$(MAKE) --no-print-directory units sanity integration CORE=$(NEWEST)

lint: $(VENVS)/lint/.stamp dev-collections
	PATH="$(call bin,lint):$$PATH" ANSIBLE_COLLECTIONS_PATH=$(DEV_COLLECTIONS) ansible-lint

changelog-lint: $(VENVS)/changelog/.stamp
	$(call bin,changelog)/antsibull-changelog lint

# Build the tarball from the clean copy, install it somewhere new, and use it from there.
build: collection sim
	rm -rf $(TOP)/build/galaxy && mkdir -p $(TOP)/build/galaxy/dist
	$(call bin,core-$(NEWEST))/ansible-galaxy collection build --output-path $(TOP)/build/galaxy/dist $(COLL)
	$(call bin,core-$(NEWEST))/ansible-galaxy collection install -p $(TOP)/build/galaxy/collections \
	  $(TOP)/build/galaxy/dist/vfio-migration-*.tar.gz 2>&1 | sed '/is not part of the configured/d'
	cd $(TOP)/build/galaxy && export ANSIBLE_COLLECTIONS_PATH=$(TOP)/build/galaxy/collections ANSIBLE_NOCOLOR=1; \
	  $(call bin,core-$(NEWEST))/ansible-doc vfio.migration.vfio_facts > doc.txt; \
	  grep -q 'galaxy/collections/ansible_collections/vfio/migration/plugins/modules/vfio_facts.py' doc.txt; \
	  $(call bin,core-$(NEWEST))/ansible localhost -m vfio.migration.vfio_facts \
	    -a 'sysfs_root=$(SIM_OUT)/t4-a/sys proc_root=$(SIM_OUT)/t4-a/proc dev_root=$(SIM_OUT)/t4-a/dev' > adhoc.txt 2>&1; \
	  grep -q '"vm": "web-01"' adhoc.txt
	@echo "build: $$(cd $(TOP)/build/galaxy/dist && ls vfio-migration-*.tar.gz) installs; ansible-doc and vfio_facts run from the installed copy"

test-kernel:
	if [ -x tests/kernel/run.sh ] || [ -f tests/kernel/run.sh ]; then bash tests/kernel/run.sh; \
	else echo "test-kernel: no tests/kernel/run.sh, nothing to do"; fi

test: matrix lint changelog-lint build
	if [ "$${VFIO_TEST_KERNEL:-0}" = 1 ]; then $(MAKE) --no-print-directory test-kernel; fi

bench: $(VENVS)/core-$(NEWEST)/.stamp
	$(call bin,core-$(NEWEST))/python benchmarks/bench_facts.py

clean:
	rm -rf $(TOP)/build $(SIM_OUT) $(TOP)/tests/output $(TOP)/benchmarks/output
