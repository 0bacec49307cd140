#!/usr/bin/env bash
# Every knob of the defaults header (#ifndef NAME ... #define NAME) has a
# doxygen comment between the two lines and a row in the README's
# compile-time knobs table; every row of that table is a knob of the header.
#   scripts/check-config-knobs.sh [HEADER [README]]
# Exit 0 when all hold; otherwise each problem on one line, exit 1.
set -u
header=${1:-include/lwss/config_defaults.h}
readme=${2:-README.md}
guard=LWSS_CONFIG_DEFAULTS_H

# NAME<TAB>documented(0/1) for each knob, in header order.
knobs=$(awk -v guard="$guard" '
    /^#ifndef[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*$/ { if ($2 != guard) { name = $2; doc = 0 }; next }
    name != "" && /^[ \t]*\/\*\*/ { doc = 1 }
    name != "" && /^#define[ \t]/ {
        if ($2 == name) print name "\t" doc; else print name "\tnodefine"
        name = ""
    }' "$header")
# Rows of the README table under the "Compile-time knobs" heading.
rows=$(awk '/^### Compile-time knobs/ {t = 1; next} t && /^#/ {t = 0}
            t && /^\| `[A-Za-z_][A-Za-z0-9_]*` \|/ {split($0, f, "`"); print f[2]}' "$readme")

bad=0
[ -n "$knobs" ] || { echo "no knobs found in $header"; exit 1; }
[ -n "$rows" ] || { echo "no 'Compile-time knobs' table in $readme"; exit 1; }
while IFS=$'\t' read -r name doc; do
    case $doc in
    nodefine) echo "$header: #ifndef $name is not followed by #define $name"; bad=1 ;;
    0) echo "$header: $name has no doxygen comment (/** ... */)"; bad=1 ;;
    esac
    grep -qx -- "$name" <<<"$rows" || { echo "$readme: $name missing from the compile-time knobs table"; bad=1; }
done <<<"$knobs"
while read -r row; do
    cut -f1 <<<"$knobs" | grep -qx -- "$row" || { echo "$readme: table row $row is not a knob of $header"; bad=1; }
done <<<"$rows"
n=$(wc -l <<<"$knobs")
[ $bad = 0 ] && echo "$n knobs, each documented in $header and listed in $readme"
exit $bad
