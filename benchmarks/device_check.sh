#!/usr/bin/env bash
# Everything a GPU machine should run, from the source tree and a data mirror folder alone:
#   ISDARTS_MIRROR=/path/to/mirror bash benchmarks/device_check.sh OUTDIR [SECONDS]
# (the mirror laid out like shared/data: cifar10/ and nb201/). Needs torch, numpy, pandas,
# matplotlib and pyyaml only (no install, no network: the package runs from the tree through
# PYTHONPATH; without jsonschema and pandera their checks are skipped, which it says).
#   1. prepares CIFAR-10 and the NAS-Bench-201 table from the mirror (into $ISDARTS_DATA, else
#      a temporary folder);
#   2. tests/gpu_checks.py on CUDA: graphed vs eager epochs, the graphed importance pass, the
#      finite-loss check, a graphed search resumed (OUTDIR/gpu_checks.txt);
#   3. benchmarks/gpu_throughput.py (OUTDIR/gpu_throughput.txt and .json);
#   4. `paper` searches on NAS-Bench-201, IS-DARTS and DARTS, seeds 0-4, as many at once as the
#      benchmark found fastest, until SECONDS (default 540) since the start are nearly spent.
#      They checkpoint every epoch into OUTDIR/results: run the check again with those
#      results in place (OUTDIR/results copied back) and they resume.
# OUTDIR/summary.txt lists each step's status and time. A dry run on a machine without a GPU:
#   ISDARTS_CHECK_DEVICE=cpu ISDARTS_CHECK_PROFILE=smoke bash benchmarks/device_check.sh OUT 300
set -uo pipefail
OUT=${1:?usage: device_check.sh OUTDIR [SECONDS]}
BUDGET=${2:-540}
START=$(date +%s)
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PYTHON:-python}
DEVICE=${ISDARTS_CHECK_DEVICE:-cuda}
PROFILE=${ISDARTS_CHECK_PROFILE:-paper}
QUICK=$([ "$PROFILE" = smoke ] && echo --quick)
: "${ISDARTS_MIRROR:?set ISDARTS_MIRROR to a folder laid out like shared/data}"
export ISDARTS_DATA=${ISDARTS_DATA:-$(mktemp -d)/data}
left() { echo $((BUDGET - ($(date +%s) - START))); }
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log, record status
    local name=$1 limit=$2 t0=$(date +%s) rc
    shift 2
    timeout -s INT "$limit" "$@" > >(tee "$OUT/logs/$name.log") 2>&1
    rc=$?
    echo "$name rc=$rc seconds=$(($(date +%s) - t0))" | tee -a "$OUT/summary.txt"
    return $rc
}
{
    echo "device check $(date -u +%FT%TZ) budget ${BUDGET}s"
    $PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA")'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
} | tee "$OUT/summary.txt"

step prepare 240 $PY -m isdarts data prepare cifar10 nb201
step gpu_checks 240 $PY tests/gpu_checks.py --device "$DEVICE" && cp "$OUT/logs/gpu_checks.log" "$OUT/gpu_checks.txt"
step gpu_throughput 300 $PY benchmarks/gpu_throughput.py --device "$DEVICE" $QUICK \
    --json "$OUT/gpu_throughput.json"
cp "$OUT/logs/gpu_throughput.log" "$OUT/gpu_throughput.txt" 2>/dev/null

# the paper searches, k at a time (k: the benchmark's best number of processes, else 4)
K=$($PY -c 'import json,sys; b=json.load(open(sys.argv[1]))["best"]; print(b.split("=")[1])' \
    "$OUT/gpu_throughput.json" 2>/dev/null || echo 4)
REMAIN=$(($(left) - 15))
echo "$PROFILE searches: $K at a time for ${REMAIN}s" | tee -a "$OUT/summary.txt"
if [ "$REMAIN" -gt 60 ]; then
    jobs=()
    for seed in 0 1 2 3 4; do for method in isdarts darts; do jobs+=("$method $seed"); done; done
    printf '%s\n' "${jobs[@]}" | timeout -s INT "$REMAIN" xargs -P "$K" -L 1 bash -c '
        m=$0 s=$1
        '"$PY"' -m isdarts search --space nb201 --method $m --dataset cifar10 --seed $s \
            --profile '"$PROFILE"' --device '"$DEVICE"' --data-root "$ISDARTS_DATA" \
            --bench "$ISDARTS_DATA/nb201/nb201-200ep-accuracies.csv" \
            --out "'"$OUT"'/results/'"$PROFILE"'/nb201/$m/cifar10/seed$s" \
            > "'"$OUT"'/logs/search-$m-seed$s.log" 2>&1
        echo "search $m seed $s rc=$?"' | tee -a "$OUT/summary.txt"
fi
echo "done after $(($(date +%s) - START))s" | tee -a "$OUT/summary.txt"
