#!/usr/bin/env bash
# Issue 13, "ADC at FAISS speed": Quarry's ADC scan (JMH AdcBenchmark) and FAISS IndexIVFPQ on the same vectors,
# same model, same spec, one query at a time, one thread; prints us/query, codes/query, ns/code and the ratio.
#   lib/bench/scripts/adc_vs_faiss.sh [DIR] [AdcBenchmark options: --n 50000 --spec IVF256,PQ48x8 --nprobe 16
#                                            --k 100 --warmup 3 --iterations 5 --time 2 --forks 1 --metric ip|l2
#                                            --l2Tables precomputed|perList --scalar false|true]
# (--scalar true adds searchScalar/scanScalar: the same benchmarks in a fork with -Dquarry.simd=false, the scalar
# loops, and scanFloat: a fork with -Dquarry.adc.lut=false, the float-table scan of every code without the
# quantized-table bound (the default before it); --metric l2 compares with FAISS's L2 IndexIVFPQ and its
# precomputed table.)
# Env: PYTHON (default /tmp/faissvenv/bin/python, a throwaway venv with faiss-cpu and numpy, never a project
# dependency), FAISS_MODEL (quarry | train, default quarry), FAISS_REPEAT (default 20), JAVA_OPTS (default
# -Xmx2g --add-modules=jdk.incubator.vector: the Vector API kernels; JMH's forks inherit the flags).
# Builds lib/bench and its classpath first (offline if MVN_OFFLINE=1). Run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:-/tmp/quarry-adc-faiss}
shift || true
python=${PYTHON:-/tmp/faissvenv/bin/python}
cd "$root"
offline=()
[ "${MVN_OFFLINE:-0}" = 1 ] && offline=(-o)
mvn -B -q "${offline[@]}" -pl lib/bench -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile=target/cp.txt
cp="lib/bench/target/classes:$(cat lib/bench/target/cp.txt)"
# shellcheck disable=SC2086
java ${JAVA_OPTS:--Xmx2g --add-modules=jdk.incubator.vector} -cp "$cp" io.quarry.bench.AdcBenchmark --out "$dir" "$@"
echo
"$python" lib/bench/scripts/faiss_adc_bench.py "$dir" --model "${FAISS_MODEL:-quarry}" --repeat "${FAISS_REPEAT:-20}"
