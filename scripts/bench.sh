#!/bin/bash
# Runs inside the rig: every benchmark BENCH_RUNS times, then the report.
#   scripts/bench.sh OUTDIR bench-binary...
set -u
out=$1; shift
runs=${BENCH_RUNS:-5}
mkdir -p "$out"
raw="$out/raw.jsonl"
: > "$raw"
[ $# -gt 0 ] || { echo "bench: no benchmarks are built" >&2; exit 1; }
rc=0
for b in "$@"; do
    for r in $(seq "$runs"); do
        echo "bench: $(basename "$b") run $r/$runs" >&2
        if ! timeout 600 "$b" >>"$raw"; then
            echo "bench: $b failed (run $r)" >&2
            rc=1
        fi
    done
done
"$out/lwss-bench-report" "$out" < "$raw" | tee "$out/report.txt" || exit 1
if command -v gnuplot >/dev/null && [ -s "$out/ratios.dat" ]; then
    gnuplot <<GP
set terminal pngcairo size 1100,600 font ",10"
set output "$out/chart.png"
set title "lwss vs baseline measured in the same run (ratio = lwss / baseline)"
set style fill solid 0.8
set boxwidth 0.6
set yrange [0:*]
set offsets 0.6, 0.6, 0.2, 0
set ylabel "ratio (dashed: 1.0 = parity)"
set xtics rotate by -35 noenhanced
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "red"
plot "$out/ratios.dat" using 0:2:xtic(1) with boxes notitle lc rgb "#3b7dd8", \\
     "" using 0:2:(sprintf("%.2f",\$2)) with labels offset 0,0.7 notitle
GP
    echo "bench: chart in $out/chart.png, table in $out/results.md, data in $out/results.json"
fi
exit $rc
