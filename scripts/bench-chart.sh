#!/bin/bash
# Draws OUTDIR/chart.png from OUTDIR/ratios.dat (written by lwss-bench-report):
# one horizontal bar per comparison, normalised so that > 1 always means
# lwss is better than its baseline (ratios of times and sizes are inverted),
# on a log scale around 1.  Green: lwss better; red: baseline better;
# black diamond: the goal, where the issue sets one.
#   scripts/bench-chart.sh OUTDIR
set -eu
out=$1
dat="$out/ratios.dat"
n=$(grep -c . "$dat")
height=$((180 + 26 * n))
# The left margin (in characters of the 10 pt font) holds the longest row
# label whole; the picture widens with it so the bars keep their room.
longest=$(awk -F'"' '{ if (length($2) > m) m = length($2) } END { print m + 0 }' "$dat")
lmargin=$((longest * 4 / 5 + 3))
width=$((900 + 8 * lmargin))
gnuplot <<GP
set terminal pngcairo size $width,$height font "DejaVu Sans,10"
set output "$out/chart.png"
set title "lwss vs the baseline measured in the same run\n{/*0.9 bar = advantage of lwss = lwss/baseline for rates, baseline/lwss for times and sizes: > 1 (green) means lwss is better}\n{/*0.9 black diamond = the goal: met when the bar reaches past it to the right}"
set logscale x 2
set xrange [0.0625:128]
set xtics ("1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1 (parity)" 1, "2" 2, "4" 4, "8" 8, "16" 16, "32" 32, "64" 64, "128" 128)
set xlabel "← baseline better          lwss advantage (log scale)          lwss better →"
set yrange [$n:-1]
set ytics noenhanced font ",9"
set grid xtics
set style fill solid 0.85 noborder
unset key
set arrow from 1, graph 0 to 1, graph 1 nohead lc rgb "black" lw 1.5
set lmargin $lmargin
set rmargin 4
plot "$dat" using (sqrt(\$3)):1:((\$3 < 1) ? \$3 : 1):((\$3 < 1) ? 1 : \$3):(\$1-0.35):(\$1+0.35):((\$3 >= 1) ? 0x2e9e4f : 0xd0413e):ytic(2) \
       with boxxyerror lc rgb variable, \
     "" using (\$5 > 0 ? \$5 : NaN):1 with points pt 13 ps 1.6 lc rgb "black", \
     "" using ((\$3 >= 1 && \$3 < 4) ? \$3*1.06 : 1.06):1:(sprintf("%.2f×   (lwss/base %.3g, %s is better)%s", \$3, \$4, (\$7 == 1) ? "lower" : "higher", (\$6 == 0) ? "  goal MISSED" : (\$6 == 1) ? "  goal met" : "")) \
       with labels left offset 0.3,0 font ",8" noenhanced
GP
