#!/bin/sh
# Builds referee twice (gcc, and clang with ASan+UBSan) and runs the whole
# suite of each inside a throwaway PostgreSQL 15 cluster (pg_virtualenv).
# Usage: tests/run-tests.sh [extra ctest args]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build/gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREFEREE_WERROR=ON
cmake --build build/gcc -j"$jobs"
cmake -S . -B build/asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DREFEREE_SANITIZE=address,undefined -DREFEREE_WERROR=ON
cmake --build build/asan -j"$jobs"

# Formatting: .clang-format is the style; a diff fails the run.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
fi

# Banned functions (curl's checksrc idea): unsafe or locale/float-dependent.
if grep -rnE '\b(atoi|atol|atof|strtod|sscanf|strtok|strcpy|strcat|sprintf|gets|localtime|mktime)[[:space:]]*\(' \
        cdr rating --include='*.c' --include='*.h'; then
    echo "banned function used (see above)" >&2
    exit 1
fi

# Private headers (*_int.h) belong to their library folder (and its unit
# tests and fuzz targets, which test its inside): PostgreSQL's libpq-int.h
# rule.
for h in $(git ls-files '*_int.h' 2>/dev/null); do
    lib=$(dirname "$h")
    if git grep -l "include \"$h\"" -- '*.c' '*.h' | grep -v "^$lib/" | grep -vE '^tests/(unit|fuzz)/'; then
        echo "$h is private to $lib (included above)" >&2
        exit 1
    fi
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pg_virtualenv -t -v 15 sh -c "
    ctest --test-dir build/gcc --output-on-failure -j$jobs $* &&
    ctest --test-dir build/asan --output-on-failure -j$jobs $*"
