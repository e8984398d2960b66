# nodewise: `make help` lists the targets. Recipes only call tools: the
# nodewise CLI (.venv/bin/nodewise), ansible-playbook and spark-submit.

# The cluster: the inventory a target was last given (kept in .nodewise/inventory,
# see nodewise_cli/clusters.py), else inventory.ini. A target given INVENTORY=
# makes that cluster the current one; other clusters' files wait in reports/clusters/.
ifeq ($(origin INVENTORY),undefined)
INVENTORY := $(or $(shell cat .nodewise/inventory 2>/dev/null),inventory.ini)
endif
# Extra ansible-playbook options for every target that runs a playbook,
# e.g. ANSIBLE_ARGS=-K (sudo asks for a password), --diff, -v.
ANSIBLE_ARGS ?=
LOCAL_INVENTORY := inventories/local.ini
ROWS ?= 3000
SEED ?= 42
SEEDS ?= 1
# make demo repeats over three seeds unless SEEDS is given.
DEMO_SEEDS := $(if $(filter command line environment,$(origin SEEDS)),$(SEEDS),1 2 3)
SOURCE ?=
# How make data shares rows among the nodes: iid, label, quantity or column
# (nodewise_cli/split.py); ALPHA for label and quantity, SPLIT_COLUMN for column.
SPLIT ?= iid
ALPHA ?= 0.5
SPLIT_COLUMN ?=
SPLIT_SEED ?= 42
# make sweep: the alphas to train every model at, from nearly IID to the most skewed.
ALPHAS ?= 100 1 0.3 0.1
# Federated averaging (make train-federated): rounds, and L-BFGS steps per node and round.
ROUNDS ?= 20
LOCAL_STEPS ?= 10
NODE ?=
REPARTITION_BY ?=
# The classifier every trainer fits, and the feature set (see README).
BENCH_ROWS ?= 3000 30000 300000 3000000
BENCH_RUNS ?= 5
# make bench-targets: the commit to compare HEAD with, and runs per target.
BASE ?=
BENCH_TARGET_RUNS ?= 2
MODEL ?= logistic_regression
FEATURES ?= default
# make uninstall removes nodewise from the nodes only with CONFIRM=yes.
CONFIRM ?=
# make up replaces the secret of a provisioned cluster only with ROTATE_SECRET=yes.
ROTATE_SECRET ?=

VENV := .venv
READY := $(VENV)/.nodewise-installed
PYTHON := $(VENV)/bin/python
NODEWISE := $(VENV)/bin/nodewise
USE_CLUSTER = @$(PYTHON) -m nodewise_cli.clusters $(INVENTORY)
PLAYBOOK := $(VENV)/bin/ansible-playbook -i $(INVENTORY) $(ANSIBLE_ARGS)
PLAYBOOKS := ansible/playbooks
TRAIN_VARS = -e "nodewise_seeds='$(SEEDS)'" -e nodewise_classifier=$(MODEL) \
	-e nodewise_feature_set=$(FEATURES)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.DEFAULT_GOAL := help
.PHONY: help setup data push-data sweep up down status ui logs uninstall bench bench-targets train-node train-nodes train-unified \
	train-federated guard-SPLIT-ALPHA \
	evaluate report demo test test-fast test-unit test-e2e lint clean guard-NODE

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(READY): requirements.lock pyproject.toml scripts/setup.sh
	scripts/setup.sh $(VENV) requirements.lock

setup: $(READY) ## Build .venv from requirements.lock with python3 or SETUP_PYTHON= (3.11+); Java only for demo/test/bench

data: $(READY) ## Generate (or import SOURCE=) the dataset and split it per INVENTORY host (SPLIT=iid|label|quantity|column)
	$(USE_CLUSTER)
ifeq ($(strip $(SOURCE)),)
	$(NODEWISE) generate --rows $(ROWS) --seed $(SEED)
else
	$(NODEWISE) import $(SOURCE)
endif
	$(NODEWISE) split --inventory $(INVENTORY) --split $(SPLIT) --alpha $(ALPHA) \
		--split-seed $(SPLIT_SEED) $(if $(SPLIT_COLUMN),--column "$(SPLIT_COLUMN)")

push-data: $(READY) ## Put each slice of make data on its own node and nothing else (site.yml --tags data)
	$(USE_CLUSTER)
	$(PLAYBOOK) site.yml --tags data

up: $(READY) ## Set up and start the cluster: ansible-playbook site.yml (ROTATE_SECRET=yes: new secret)
	$(USE_CLUSTER)
	$(PLAYBOOK) site.yml $(if $(filter yes,$(ROTATE_SECRET)),-e nodewise_rotate_secret=true)

down: $(READY) ## Stop every Spark daemon on every node
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/down.yml

status: $(READY) ## Show each node's daemons, alive workers and web UI addresses
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/status.yml

ui: $(READY) ## Print (and open, where a browser is) the master, worker and history server UIs
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/ui.yml

logs: $(READY) ## Fetch the daemons', runs' and executors' logs of every node (or NODE=) into reports/logs/
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/logs.yml $(if $(NODE),-e nodewise_node=$(NODE))

uninstall: $(READY) ## Remove from every node what up put there (needs CONFIRM=yes; keeps Java)
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/uninstall.yml $(if $(filter yes,$(CONFIRM)),-e nodewise_confirm=yes)

guard-NODE:
	@test -n "$(NODE)" || { echo "NODE not set: make train-node NODE=<node>; nodes in $(INVENTORY):"; \
		$(NODEWISE) nodes --inventory $(INVENTORY); exit 2; }

train-node: $(READY) guard-NODE ## Train NODE's model on NODE's data only (local[*] on NODE)
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/train_node.yml -e nodewise_node=$(NODE) $(TRAIN_VARS)

train-nodes: $(READY) ## Train every node's model at once, each on its own data
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/train_node.yml $(TRAIN_VARS)

train-unified: $(READY) ## Train one model on all nodes' data across the cluster
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/train_unified.yml $(TRAIN_VARS) \
		-e "nodewise_repartition_by='$(REPARTITION_BY)'"

train-federated: $(READY) ## Train one model by federated averaging: ROUNDS rounds, each node on its own rows
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/train_federated.yml $(TRAIN_VARS) \
		-e "nodewise_rounds=$(ROUNDS) nodewise_local_steps=$(LOCAL_STEPS)"

evaluate: $(READY) ## Combine per-node models (their average, their vote); score every model on every node's test part
	$(USE_CLUSTER)
	$(PLAYBOOK) $(PLAYBOOKS)/evaluate.yml

report: $(READY) ## Write reports/summary.csv, report.md, report.html and figures from the run records
	$(USE_CLUSTER)
	$(NODEWISE) report --classifier $(MODEL) --feature-set $(FEATURES) --inventory $(INVENTORY)

bench: $(READY) ## Time unified, fedavg, per-node, average and scikit-learn fits (BENCH_ROWS, BENCH_RUNS): reports/bench.*
	$(NODEWISE) bench $(foreach rows,$(BENCH_ROWS),--rows $(rows)) --runs $(BENCH_RUNS)

bench-targets: $(READY) ## Time make demo (fresh clone), train-unified, train-node and a second up on BASE= then HEAD: reports/bench-targets.*
	@test -n "$(BASE)" || { echo "make bench-targets needs BASE=<commit>, the commit to compare HEAD with"; exit 2; }
	$(NODEWISE) bench-targets --base $(BASE) --runs $(BENCH_TARGET_RUNS)

guard-SPLIT-ALPHA:
	@case "$(SPLIT)" in label|quantity) ;; *) echo "make sweep needs SPLIT=label or SPLIT=quantity" \
		"(the splits with an ALPHA), not SPLIT=$(SPLIT)"; exit 2;; esac
	@test -n "$(strip $(ALPHAS))" || { echo "ALPHAS is empty: make sweep ALPHAS=\"100 1 0.3 0.1\""; exit 2; }

sweep: $(READY) guard-SPLIT-ALPHA ## Train every model at each of ALPHAS (SPLIT=label|quantity, SEEDS) on the cluster that is up; the report draws F1 against alpha
	$(foreach alpha,$(ALPHAS),$(MAKE) data push-data train-nodes train-unified train-federated evaluate \
		ALPHA=$(alpha) SPLIT=$(SPLIT) SPLIT_SEED=$(SPLIT_SEED) SEEDS="$(SEEDS)" SOURCE="$(SOURCE)" \
		ROWS=$(ROWS) SEED=$(SEED) ROUNDS=$(ROUNDS) LOCAL_STEPS=$(LOCAL_STEPS) MODEL=$(MODEL) \
		FEATURES=$(FEATURES) INVENTORY=$(INVENTORY) \
		|| { echo "make sweep: alpha $(alpha) failed (the runs of the alphas before it are kept)"; \
		exit 2; }; ) \
	$(MAKE) report MODEL=$(MODEL) FEATURES=$(FEATURES) INVENTORY=$(INVENTORY)

demo: $(READY) ## The whole comparison on three local nodes (leaves the cluster up)
	$(MAKE) data up train-nodes train-unified train-federated evaluate report INVENTORY=$(LOCAL_INVENTORY) \
		SOURCE="$(SOURCE)" ROWS=$(ROWS) SEED=$(SEED) SEEDS="$(DEMO_SEEDS)" \
		MODEL=$(MODEL) FEATURES=$(FEATURES) SPLIT=$(SPLIT) ALPHA=$(ALPHA) \
		SPLIT_COLUMN="$(SPLIT_COLUMN)" SPLIT_SEED=$(SPLIT_SEED) ROUNDS=$(ROUNDS) \
		LOCAL_STEPS=$(LOCAL_STEPS)

test: $(READY) ## Run every test: lint, unit, end to end
	$(PYTHON) -m pytest tests

test-fast: $(READY) ## Run the unit and local end-to-end tests (no namespace hosts, booted machines or demo user)
	$(PYTHON) -m pytest tests --ignore=tests/test_vm_path.py --ignore=tests/test_e2e_hosts.py \
		--ignore=tests/test_nshosts.py --ignore=tests/test_demo_user.py

test-unit: $(READY) ## Run the unit tests only
	$(PYTHON) -m pytest tests -m "not e2e"

test-e2e: $(READY) ## Run the end-to-end tests only (local cluster, namespace hosts as root)
	$(PYTHON) -m pytest tests -m e2e

lint: $(READY) ## ruff on the Python, ansible-lint and a syntax check of every playbook
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ansible-lint --offline
	$(PLAYBOOK) --syntax-check site.yml $(PLAYBOOKS)/*.yml

clean: ## Remove everything the targets write (data, node roots, reports, bench, build/) but .venv, the secret and .known_hosts
	rm -rf data/ai_jobs_2030.csv data/split .nodes .nodewise reports/runs reports/models reports/logs \
		reports/clusters reports/summary.csv reports/report.md reports/report.html reports/*.png \
		reports/bench.csv reports/bench.md reports/bench-targets.csv reports/bench-targets.md build
