# Golden Path Portal: two commands. Each sets up what it needs (Node 24, yarn, Python
# virtualenvs, Debian packages when run as root) on a fresh machine.
.PHONY: start test mutation bench gitops-loop portal-on-cluster cluster cluster-stop demo help

help:
	@echo "make start         serve the portal at http://localhost:3000 (backend :7007)"
	@echo "make test          run every check (type-check, lint, unit, templates, cluster, browser)"
	@echo "make mutation      mutation testing (StrykerJS, mutmut): score per package and the mutants no test kills (about 25 min)"
	@echo "make bench         benchmarks: rollouts plugin (about 10 min), templates, local cluster with the blue-green traffic test (about 10 min)"
	@echo "make gitops-loop   the GitOps template's whole loop on the local cluster: Create, release, promotions, a broken release and its revert, with times (about 10 min)"
	@echo "make portal-on-cluster  the portal's own image and deploy/portal on the local cluster's real nodes: browser smoke test, rolling restart under load, the two-replica test on two pods, cleaned up after (about 5 min warm, 20 min cold)"
	@echo "make cluster       start the local Kubernetes control plane (no Docker) and print its KUBECONFIG"
	@echo "make cluster-stop  stop it and remove its data"
	@echo "make demo          start the cluster, deploy the example workload, print the portal's cluster settings"

start:
	@scripts/start.sh

test:
	@scripts/test.sh

mutation:
	@scripts/mutation.sh

bench:
	@scripts/bench-rollouts.sh
	@scripts/bench-templates.sh
	@scripts/bench-platform.sh

# The browser test of the GitOps loop in full (make test runs its short version).
gitops-loop:
	@GITOPS_LOOP=full E2E_PHASES=cluster E2E_BLUE_GREEN=0 scripts/test-e2e.sh gitops-loop.test.ts

# Needs the local cluster with a real node (NODES=1 make cluster).
portal-on-cluster:
	@scripts/test-portal-on-cluster.sh

cluster:
	@platform/cluster.sh start

cluster-stop:
	@platform/cluster.sh stop

demo:
	@platform/demo.sh
