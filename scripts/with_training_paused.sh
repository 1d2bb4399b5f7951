#!/usr/bin/env bash
# Run a command while this checkout's training runs are paused, then resume them.
#
#   scripts/with_training_paused.sh make bench
#
# Every process whose pid is in runs/*/pid ($QA_RUNS_DIR/*/pid) gets SIGSTOP before the command and
# SIGCONT after it, also when it fails or is interrupted. One such command runs at a time (a lock
# file), so two benchmarks never time each other either. Timings taken while a training run uses
# the cores are not worth reporting on a 2-core machine. The training is never starved: a pause
# lasts at most $QA_PAUSE_MAX_S seconds (default 900; the command goes on, with a warning that its
# later timings are not clean), and the next pause waits until the training has run as long as
# the previous pause lasted.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${QA_RUNS_DIR:-$root/runs}
max=${QA_PAUSE_MAX_S:-900}
if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
lock=${QA_PAUSE_LOCK:-/tmp/qa-training-pause.lock}
exec 9>"$lock"
flock 9
running=""
for f in "$runs"/*/pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null; then running="$running $p"; fi
done
state="$lock.last"  # "<end of the last pause> <its length>", epoch seconds
if [ -n "$running" ] && [ -f "$state" ]; then
    read -r last_end last_len < "$state" || true
    wait_s=$(( ${last_end:-0} + ${last_len:-0} - $(date +%s) ))
    [ "$wait_s" -gt "$max" ] && wait_s=$max
    if [ "$wait_s" -gt 0 ]; then
        echo "with_training_paused: letting the training run ${wait_s}s after the last pause" >&2
        sleep "$wait_s"
    fi
fi
started=$(date +%s)
watchdog=""
resume() {
    [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
    for p in $running; do kill -CONT "$p" 2>/dev/null; done
    [ -n "$running" ] && echo "$(date +%s) $(( $(date +%s) - started ))" > "$state"
}
trap resume EXIT
trap 'exit 130' INT TERM
for p in $running; do kill -STOP "$p"; done
if [ -n "$running" ]; then
    ( sleep "$max"; for p in $running; do kill -CONT "$p" 2>/dev/null; done
      echo "with_training_paused: the training resumed after ${max}s; timings from here on are not clean" >&2 ) &
    watchdog=$!
    sleep 3  # let the cores settle
fi
"$@"
