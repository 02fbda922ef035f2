#!/bin/sh
# The Compose lab's k6 service: npm start's default experiment, once. For each injected lag (set on the delay
# proxy's control port, PUT /delay), sql-read-after-write then sql-replica-lag, each for CQRS_DURATION, with
# the run tags, test ids and remote-write settings npm start uses (common/k6-output.ts; compose.yaml carries the
# K6_* variables, test/build/compose-experiment.test.ts runs this script against a stand-in k6 and checks it).
# Each run's reports land in $CQRS_REPORT_DIR/<test id>/ (handleSummary's files plus k6.log); k6 creates no
# folders, so this script does. The lag is put back to 0 at the end, as npm start does. POSIX sh (busybox).
#   CQRS_COMPOSE_LAGS       lag=delayMs pairs, e.g. "0=0 5ms=5 50ms=50" (compose.yaml has npm start's defaults)
#   CQRS_DELAY_CONTROL_URL  the delay proxy's control port, e.g. http://mysql-primary:8081
#   CQRS_COMPOSE_BASE_ID    optional: the experiment's test id prefix (default: exp-<UTC time>-<4 random>)
set -eu

lags=${CQRS_COMPOSE_LAGS:?set CQRS_COMPOSE_LAGS, e.g. "0=0 5ms=5 50ms=50"}
control=${CQRS_DELAY_CONTROL_URL:?set CQRS_DELAY_CONTROL_URL}
duration=${CQRS_DURATION:-10s}
report_root=${CQRS_REPORT_DIR:-reports}
strategy=${CQRS_SQL_STRATEGY:-eventual}
scripts=${CQRS_COMPOSE_SCRIPTS_DIR:-/scripts}
set_lag_script=${CQRS_COMPOSE_SET_LAG_SCRIPT:-/usr/local/share/cqrs/set-lag.js}
scenarios="sql-read-after-write sql-replica-lag"

# newTestId('exp', now) of common/k6-output.ts: prefix, UTC time to the second, 4 random [0-9a-z].
random4() { tr -dc 'a-z0-9' </dev/urandom | head -c 4; }
base=${CQRS_COMPOSE_BASE_ID:-exp-$(date -u +%Y%m%dT%H%M%S)-$(random4)}

set_lag() {
  k6 run --quiet --no-usage-report --summary-mode=disabled \
    -e "CQRS_DELAY_CONTROL_URL=$control" -e "CQRS_DELAY_MS=$1" "$set_lag_script" >/dev/null
}

reset_lag() { set_lag 0 || echo "lag: could not reset the injected delay to 0" >&2; }
trap reset_lag EXIT
trap 'exit 130' INT TERM

if ! mkdir -p "$report_root" || ! [ -w "$report_root" ]; then
  echo "experiment: $report_root/ is not writable by uid $(id -u); create it on the host and set" \
    "CQRS_COMPOSE_UID=\$(id -u) CQRS_COMPOSE_GID=\$(id -g)" >&2
  exit 1
fi

count=0
for _pair in $lags; do count=$((count + 2)); done
echo "runs: $count (lags $(for p in $lags; do printf '%s ' "${p%%=*}"; done); $duration each; strategy $strategy)"

n=0
failed=0
for pair in $lags; do
  lag=${pair%%=*}
  delay_ms=${pair#*=}
  set_lag "$delay_ms"
  echo "lag: replication delay set to $delay_ms ms (delay proxy)"
  for scenario in $scenarios; do
    n=$((n + 1))
    testid="$base-${scenario#sql-}-lag$(printf '%s' "$lag" | tr -cd 'A-Za-z0-9')"
    dir="$report_root/$testid"
    mkdir -p "$dir"
    echo "[$n/$count] $scenario at $lag for $duration -> $dir/ (testid $testid)"
    code=0
    CQRS_TEST_ID=$testid CQRS_DURATION=$duration CQRS_REPORT_DIR=$report_root \
      k6 run -o experimental-prometheus-rw \
      --tag "testid=$testid" --tag "script=$scenario" --tag "strategy=$strategy" --tag "lag=$lag" \
      "$scripts/$scenario.js" >"$dir/k6.log" 2>&1 || code=$?
    echo "      exit $code; $(ls "$dir" | tr '\n' ' ')"
    # Threshold failures (99) are results, not breakage; anything else is.
    if [ "$code" -ne 0 ] && [ "$code" -ne 99 ]; then failed=1; fi
  done
done
echo "reports: $report_root/$base-*/"
exit "$failed"
