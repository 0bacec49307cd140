#!/bin/bash
# The shared library exports exactly its public API (style rule 2):
#   declared = every function the headers in include/ declare (found by the
#              compiler: gcc -aux-info over a file including them all), plus
#              the standard C_* functions of the PKCS #11 header they include;
#   exported = nm -D --defined-only of the library, minus the linker's own
#              symbols and ASan's __odr_asan.* markers.
# Both directions fail: an internal name exported, or a declared one missing.
#
#   scripts/check-exports.sh LIB.so GCC CFLAGS...
set -u
lib=$1 cc=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/lwss-exports.XXXXXX")
trap 'rm -rf "$work"' EXIT

for h in include/*.h include/lwss/*.h; do echo "#include \"$PWD/$h\""; done > "$work/all.c"
# -aux-info writes one line per declared function:
#   /* FILE:LINE:NC */ extern TYPE NAME (ARGS);
if ! "$cc" "$@" -aux-info "$work/aux" -c "$work/all.c" -o "$work/all.o"; then
    echo "exports: the public headers do not compile on their own"
    exit 1
fi
awk -v inc="$PWD/include/" '
    { file = $2; sub(/:[0-9]+:[A-Z]+$/, "", file)
      name = $0; sub(/ \(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n] }
    index(file, inc) == 1 || index(file, "include/") == 1 || (file ~ /pkcs11\.h$/ && name ~ /^C_/) { print name }
' "$work/aux" | sort -u > "$work/declared"
nm -D --defined-only "$lib" | awk '{ print $3 }' |
    grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$|^__odr_asan\.' | sort -u > "$work/exported"

extra=$(comm -13 "$work/declared" "$work/exported")
missing=$(comm -23 "$work/declared" "$work/exported")
if [ -n "$extra" ] || [ -n "$missing" ]; then
    [ -z "$extra" ] || { echo "exported but not declared in include/:"; echo "$extra" | sed 's/^/  /'; }
    [ -z "$missing" ] || { echo "declared in include/ but not exported (LWSS_API?):"; echo "$missing" | sed 's/^/  /'; }
    exit 1
fi
echo "exports: $(wc -l < "$work/exported") symbols, exactly the declared API"
