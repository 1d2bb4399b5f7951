#!/usr/bin/env bash
# Run a command while this checkout's training runs are paused, then resume them.
#
#   scripts/with_training_paused.sh make bench
#
# Every process whose pid is in runs/*/pid ($QA_RUNS_DIR/*/pid) gets SIGSTOP before the command and
# SIGCONT after it, also when it fails or is interrupted. One such command runs at a time (a lock
# file), so two benchmarks never time each other either. Timings taken while a training run uses
# the cores are not worth reporting on a 2-core machine.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${QA_RUNS_DIR:-$root/runs}
if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
exec 9>"${QA_PAUSE_LOCK:-/tmp/qa-training-pause.lock}"
flock 9
running=""
for f in "$runs"/*/pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null; then running="$running $p"; fi
done
resume() { for p in $running; do kill -CONT "$p" 2>/dev/null; done; }
trap resume EXIT
trap 'exit 130' INT TERM
for p in $running; do kill -STOP "$p"; done
[ -n "$running" ] && sleep 3  # let the cores settle
"$@"
