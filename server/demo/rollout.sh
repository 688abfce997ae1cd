#!/bin/sh
# The demo executor: simulates a rolling deploy of $SWITCHYARD_SERVICE to
# $SWITCHYARD_ENVIRONMENT in steps, printing what a real rollout would, so the deploy page shows
# live progress. `::progress N` lines set the progress bar. The first argument is the seconds per step (default 0.6).
# It never prints the reason (or anything else a person typed): a line of it could read as a
# `::progress` mark or as another step.
set -eu
step="${1:-0.6}"
echo "Rolling out ${SWITCHYARD_SERVICE} ${SWITCHYARD_VERSION} to ${SWITCHYARD_ENVIRONMENT} (was ${SWITCHYARD_PREVIOUS_VERSION:-nothing})"
case "$SWITCHYARD_VERSION" in
  *fail*) fail=1 ;;
  *) fail=0 ;;
esac
i=1
for phase in "pulling image" "running migrations" "canary 10%" "canary 50%" "all replicas" "health checks"; do
  sleep "$step"
  echo "[$i/6] ${phase}: ok"
  echo "::progress $((i * 100 / 6))"
  if [ "$fail" = 1 ] && [ "$i" = 3 ]; then
    echo "canary error rate 4.2% is above the 1% budget: rolling back" >&2
    exit 3
  fi
  i=$((i + 1))
done
echo "${SWITCHYARD_SERVICE} ${SWITCHYARD_VERSION} is live in ${SWITCHYARD_ENVIRONMENT}"
