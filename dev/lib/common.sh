# Shared by dev/run and dev/test: install what is missing, start and stop the local services.
# Tools go where later runs find them (~/.cargo/bin, ~/.cache/atrium); each is skipped when
# the pinned version is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The server binary the scripts run: dev/bench sets the release one.
SERVER_BIN="${SERVER_BIN:-$ROOT/target/debug/server}"
CACHE="${ATRIUM_CACHE:-$HOME/.cache/atrium}"
CARGO_LEPTOS_VERSION="0.3.10"
SQLX_CLI_VERSION="0.8.6" # the sqlx in Cargo.lock
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.58.0"
SCHEMATHESIS_VERSION="4.32.5"
MDBOOK_VERSION="0.5.4"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
# cargo-leptos compiles with this set and Leptos reads it at compile time (the wasm file name):
# every cargo call sets it too, so tests and the site share one build.
export LEPTOS_OUTPUT_NAME=atrium
# SQL is checked at compile time against the committed .sqlx/ (`cargo sqlx prepare`), so a
# build needs no database; dev/test checks .sqlx/ against the migrations.
export SQLX_OFFLINE=true
# Debian keeps initdb and pg_ctl out of PATH.
for pg_bin in /usr/lib/postgresql/*/bin; do [ -d "$pg_bin" ] && PATH="$PATH:$pg_bin"; done
mkdir -p "$CACHE"

log() { printf '\033[1;34m[atrium]\033[0m %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # wait_for <seconds> <description> <command...>
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  log "gave up waiting for $what"; return 1
}

# --- tools -------------------------------------------------------------------------------

ensure_rust_tools() {
  rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  if ! cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
    log "installing sqlx-cli $SQLX_CLI_VERSION (about 2 minutes, once)"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
  fi
  local bindgen
  bindgen=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$bindgen"; then
    log "installing wasm-bindgen-cli $bindgen (about 3 minutes, once)"
    # Not --locked: its lockfile pins a crate missing from the registry (see BUILD-NOTES).
    cargo install wasm-bindgen-cli --version "$bindgen"
  fi
}

ensure_node_tools() { # Tailwind CLI and wasm-opt from npm, at the versions in package-lock.json
  if [ ! -x "$ROOT/node_modules/.bin/tailwindcss" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing Tailwind and binaryen from npm"
    # npm ci rejects this lockfile (npm leaves out the other platforms' optional Tailwind
    # binaries); npm install with --no-save still installs the locked versions.
    (cd "$ROOT" && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
}

# The API reference page's Swagger UI, from the pinned npm package into the site's assets.
vendor_api_docs() {
  mkdir -p "$ROOT/public/vendor/swagger-ui"
  cp "$ROOT/node_modules/swagger-ui-dist/"{swagger-ui-bundle.js,swagger-ui.css,LICENSE} "$ROOT/public/vendor/swagger-ui/"
}

ensure_mdbook() { # builds the guides in docs/ (dev/docs); without the server and watcher it has by default
  if ! mdbook --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
    log "installing mdbook $MDBOOK_VERSION"
    cargo install mdbook --version "$MDBOOK_VERSION" --locked --no-default-features --features search
  fi
}

ensure_oidc_provider() { # npm oidc-provider, at the version in dev/oidc-provider/package-lock.json
  local dir="$ROOT/dev/oidc-provider"
  if [ ! -d "$dir/node_modules/oidc-provider" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing the local OpenID provider (npm oidc-provider)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_moto() {
  VENV="$CACHE/venv-moto-$MOTO_VERSION"
  if [ ! -x "$VENV/bin/moto_server" ]; then
    log "installing moto[server]==$MOTO_VERSION into $VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then # Debian's python3 needs python3-venv for this
      rm -rf "$VENV"
      if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
      $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
}

ensure_cfn_lint() { # checks deploy/atrium.yaml, the CloudFormation template
  CFN_LINT="$CACHE/venv-cfn-lint-$CFN_LINT_VERSION/bin/cfn-lint"
  if [ ! -x "$CFN_LINT" ]; then
    log "installing cfn-lint==$CFN_LINT_VERSION"
    python3 -m venv "$CACHE/venv-cfn-lint-$CFN_LINT_VERSION"
    "$CACHE/venv-cfn-lint-$CFN_LINT_VERSION/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
  fi
}

ensure_schemathesis() { # fuzzes /api/v1 from its OpenAPI document (dev/fuzz-api)
  SCHEMATHESIS="$CACHE/venv-schemathesis-$SCHEMATHESIS_VERSION/bin/schemathesis"
  if [ ! -x "$SCHEMATHESIS" ]; then
    log "installing schemathesis==$SCHEMATHESIS_VERSION"
    python3 -m venv "$CACHE/venv-schemathesis-$SCHEMATHESIS_VERSION"
    "$CACHE/venv-schemathesis-$SCHEMATHESIS_VERSION/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    log "installing Playwright (test runner only; the browser is Debian's)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# --- services ----------------------------------------------------------------------------

PIDS_TO_STOP=()
PG_DIR=""
THROWAWAY_DIR="" # removed when the services stop
stop_services() {
  local pid
  for pid in "${PIDS_TO_STOP[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_postgres pg_ctl -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  [ -n "$THROWAWAY_DIR" ] && rm -rf "$THROWAWAY_DIR"
  return 0
}

# A directory the postgres user can reach: the checkout may sit under a home it cannot enter.
postgres_reachable() {
  [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$1"
}

as_postgres() { # initdb refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres <dir> [test]: a private cluster in <dir> on a free port; DATABASE_URL overrides.
start_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then log "using DATABASE_URL from the environment"; return; fi
  PG_DIR=$1
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_postgres initdb -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
  fi
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then # left over from a run that was killed
    as_postgres pg_ctl -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || rm -f "$PG_DIR/data/postmaster.pid"
  fi
  local port extra=""
  port=$(free_port)
  mkdir -p "$PG_DIR/sock"; [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR/sock"
  [ "${2:-}" = test ] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  as_postgres pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR/sock $extra" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/atrium"
  as_postgres psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='atrium'" | grep -q 1 \
    || as_postgres createdb -h 127.0.0.1 -p "$port" -U postgres atrium
  log "PostgreSQL on 127.0.0.1:$port (data in $PG_DIR)"
}

# start_moto <logfile>: moto_server on a free port; the AWS SDK finds it through AWS_ENDPOINT_URL.
start_moto() {
  local port
  port=$(free_port)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$1" 2>&1 &
  PIDS_TO_STOP+=($!)
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  # us-east-1: moto serves unsigned Cognito calls such as GlobalSignOut from its default region only.
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ACCESS_KEY_ID="testing" AWS_SECRET_ACCESS_KEY="testing"
  export AWS_EC2_METADATA_DISABLED=true
  # The least-privilege tests start a moto of their own: IAM enforcement is global to a moto.
  export ATRIUM_MOTO_SERVER="$VENV/bin/moto_server"
  wait_for 30 "moto" curl -sf "$AWS_ENDPOINT_URL/moto-api/"
  log "moto (AWS emulator) on $AWS_ENDPOINT_URL"
}

# start_emulator <dir>: dev/aws-emulator (Service Catalog, SageMaker) on a free port, after moto.
start_emulator() {
  "$ROOT/target/debug/aws-emulator" --port 0 >"$1/emulator.url" 2>"$1/emulator.log" &
  PIDS_TO_STOP+=($!)
  wait_for 30 "the AWS emulator" test -s "$1/emulator.url"
  EMULATOR_URL=$(head -n1 "$1/emulator.url")
  export AWS_ENDPOINT_URL_SERVICE_CATALOG="$EMULATOR_URL" AWS_ENDPOINT_URL_SAGEMAKER="$EMULATOR_URL" AWS_ENDPOINT_URL_S3="$EMULATOR_URL" AWS_ENDPOINT_URL_SSM="$EMULATOR_URL" AWS_ENDPOINT_URL_STS="$EMULATOR_URL"
  # Browsers upload study files to S3 (here: the emulator) from the portal's pages.
  export ATRIUM_S3_ORIGINS="$EMULATOR_URL"
  log "AWS emulator (Service Catalog, SageMaker, S3 checks) on $EMULATOR_URL"
}

# start_oidc_provider <dir>: the local OpenID provider (dev/oidc-provider) with the demo users,
# on a free port, and the settings that point the portal at it. After build_site.
start_oidc_provider() {
  "$SERVER_BIN" demo-sso-users >"$1/sso-users.json"
  OIDC_USERS_FILE="$1/sso-users.json" node "$ROOT/dev/oidc-provider/server.mjs" >"$1/oidc.url" 2>"$1/oidc.log" &
  PIDS_TO_STOP+=($!)
  wait_for 30 "the OpenID provider" test -s "$1/oidc.url"
  ATRIUM_OIDC_ISSUER=$(head -n1 "$1/oidc.url")
  export ATRIUM_OIDC_ISSUER ATRIUM_OIDC_CLIENT_ID=atrium ATRIUM_OIDC_DISPLAY_NAME="Demo University"
  log "OpenID provider (demo users, client atrium) on $ATRIUM_OIDC_ISSUER"
}

# seed_demo: creates the demo data and exports what the server needs to find the user pool.
seed_demo() {
  local out
  # E-mail goes to moto's SES, which keeps it (see /moto-api/data.json).
  export ATRIUM_MAIL_FROM="${ATRIUM_MAIL_FROM:-atrium@example.edu}"
  out=$("$SERVER_BIN" seed-demo --catalog-templates-url "$EMULATOR_URL/templates")
  export $out
  export ATRIUM_COGNITO_JWKS_URL="$AWS_ENDPOINT_URL/$ATRIUM_COGNITO_USER_POOL_ID/.well-known/jwks.json"
  export ATRIUM_SECURE_COOKIES=false
  # Webhook receivers on this machine (plain http on 127.0.0.1) are fine locally.
  export ATRIUM_ALLOW_LOCAL_WEBHOOKS=true
  # "Connect" may lead to the local emulator's presigned-URL page.
  export ATRIUM_CONNECT_ORIGINS="https: http://127.0.0.1:*"
  export LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_OUTPUT_NAME=atrium LEPTOS_SITE_PKG_DIR=pkg
}

build_site() {
  log "building the portal (cargo leptos build --split), the atrium CLI and the AWS emulator"
  vendor_api_docs
  # Every page is a lazy route, whose browser code imports a module that only --split writes:
  # without it the wasm does not load at all.
  (cd "$ROOT" && cargo leptos build --split)
  # The same RUSTFLAGS as cargo-leptos' debug build, so the two share one build cache.
  (cd "$ROOT" && RUSTFLAGS="--cfg erase_components" cargo build -p aws-emulator -p atrium-cli)
}
