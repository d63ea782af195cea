#!/bin/sh
# referee-rate --import-prices end to end, one case per invocation:
#   import_test.sh CASE path/to/referee-rate SOURCE_DIR
set -u
case_name=$1
rate=$2
src=$3
fx="$src/tests/fixtures/import"
golden="$src/tests/fixtures/golden/import"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS CMD...: run CMD (stderr to $tmp/err), its exit status must
# be STATUS.
expect() {
    want=$1
    shift
    "$@" 2> "$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || { cat "$tmp/err" >&2; die "exit $got, wanted $want: $*"; }
}

# has TEXT: stderr of the last expect holds TEXT (a fixed string).
has() {
    grep -qF -- "$1" "$tmp/err" || { cat "$tmp/err" >&2; die "no \"$1\""; }
}

# The golden import: relative names, as the comments of deck.yaml say
# them, and the deck name from the folder's.
import_fixtures() {
    (cd "$fx" && "$rate" --import-prices --out "$1" --currency USD \
        us.json gb.json ca.csv)
}

case $case_name in
golden)
    # us.json (United States, with origin-based prices and a base_price
    # only item), gb.json and ca.csv (Canada, and 1264 again at 0.0850:
    # merged) into one deck, sorted by prefix then from_prefix.
    expect 0 import_fixtures "$tmp/twilio-test"
    diff -u "$golden/deck.yaml" "$tmp/twilio-test/deck.yaml" || die "deck.yaml differs"
    diff -u "$golden/termination.csv" "$tmp/twilio-test/termination.csv" ||
        die "termination.csv differs"
    has "3 origination prices are by number type"
    has "ok: 14 termination prices in USD (1 duplicates merged)"
    [ "$(ls -A "$tmp/twilio-test" | wc -l)" -eq 2 ] || die "more than two files"
    expect 0 "$rate" --check-deck "$tmp/twilio-test/deck.yaml"
    has 'ok: deck "twilio-test", 14 prices, 0 trunks'
    ;;
end_to_end)
    # Import, then rate calls with the imported deck (decimals 6, half-up,
    # 60/60 as written):
    #  C1 +1415.. -> +1907..  1907 at 0.085 x 125s -> 180s       = 0.255000
    #  C2 +44..   -> +1212..  1 from 44 at 0.0060 x 60s          = 0.006000
    #  C3 +1415.. -> +4477..  4477 at 0.0350 x 61s -> 120s       = 0.070000
    #  C4 +1415.. -> +1416..  1416 (ca.csv) at 0.0050 x 30 -> 60 = 0.005000
    #  C5 +33..   -> +1808..  1808 (base_price 0.0130): the longer
    #                         destination beats 1 from 33        = 0.013000
    #  C6 origination: no origination entry (only comments)     -> rejected
    #  Total                                                     = 0.349000
    expect 0 import_fixtures "$tmp/deck"
    expect 0 "$rate" --quiet --deck "$tmp/deck/deck.yaml" --out "$tmp/out" \
        "$fx/calls.csv"
    for row in 'C1,.*,1907,0.085,125,180,0.255000,USD,deck,' \
               'C2,.*,1,0.0060,60,60,0.006000,USD,deck,' \
               'C3,.*,4477,0.0350,61,120,0.070000,USD,deck,' \
               'C4,.*,1416,0.0050,30,60,0.005000,USD,deck,' \
               'C5,.*,1808,0.0130,59,60,0.013000,USD,deck,'; do
        grep -q "^$row" "$tmp/out/charges.csv" ||
            { cat "$tmp/out/charges.csv" >&2; die "no charge row $row"; }
    done
    grep -q '^.*,C6,to,"no origination rate in force' "$tmp/out/rejects.csv" ||
        { cat "$tmp/out/rejects.csv" >&2; die "C6 was not rejected for no rate"; }
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"] == {"currency": "USD", "amount": "0.349000"}, d["total"]
assert d["deck"]["name"] == "deck", d["deck"]' "$tmp/out/summary.json" ||
        die "summary.json"
    ;;
rejections)
    # Every problem of every file at once, each with its file and line or
    # JSON path; exit 2 and nothing written, not even the folder.
    expect 2 sh -c "cd '$fx' && '$rate' --import-prices --out '$tmp/deck' \
        --currency USD us.json bad/number-price.json bad/bad-prefix.json \
        bad/conflict.csv bad/eur.json bad/missing-column.csv \
        bad/junk-prefixes.csv"
    has 'bad/number-price.json: terminating_prefix_prices[0].current_price: a price must be a JSON string ("0.0085"), not a number'
    has 'bad/bad-prefix.json: terminating_prefix_prices[0].destination_prefixes[1]: a prefix is digits only (a leading + is dropped) "52-1"'
    has 'bad/conflict.csv:2: Prefixes: prefix 1907 has two prices: "0.085" at us.json: terminating_prefix_prices[1] and here "0.090"'
    has 'bad/eur.json: price_unit: currency differs from --currency USD "EUR"'
    has 'bad/missing-column.csv:1: Price: the header has no Price column'
    has 'bad/junk-prefixes.csv:3: Prefixes: a prefix is digits only (a leading + is dropped) "1264;1345"'
    has 'referee-rate: 6 problems; nothing written'
    [ ! -e "$tmp/deck" ] || die "the output folder was made"
    # each alone is refused too
    for f in number-price.json bad-prefix.json eur.json missing-column.csv \
             junk-prefixes.csv; do
        expect 2 "$rate" --import-prices --out "$tmp/deck" --currency USD \
            "$fx/bad/$f"
        [ ! -e "$tmp/deck" ] || die "$f: something was written"
    done
    # without --currency the JSON's price_unit is the deck's: EUR alone
    # imports, EUR beside USD does not
    expect 0 "$rate" --quiet --import-prices --out "$tmp/eur" "$fx/bad/eur.json"
    grep -q '^currency: EUR$' "$tmp/eur/deck.yaml" || die "not EUR"
    expect 2 "$rate" --import-prices --out "$tmp/deck" "$fx/us.json" \
        "$fx/bad/eur.json"
    has 'price_unit: currency differs from USD in'
    ;;
never_replaces)
    # An existing deck.yaml or termination.csv is refused (exit 1) before
    # any input is read, and stays as it was; other files in DIR are fine.
    expect 0 import_fixtures "$tmp/deck"
    sum=$(cat "$tmp/deck/deck.yaml" "$tmp/deck/termination.csv" | sha256sum)
    expect 1 import_fixtures "$tmp/deck"
    has "deck.yaml: already exists: --import-prices never replaces a file"
    [ "$(cat "$tmp/deck/deck.yaml" "$tmp/deck/termination.csv" | sha256sum)" = "$sum" ] ||
        die "an existing file changed"
    mkdir "$tmp/d2" && echo keep > "$tmp/d2/notes.txt" && echo x > "$tmp/d2/termination.csv"
    expect 1 import_fixtures "$tmp/d2"
    has "termination.csv: already exists"
    [ ! -e "$tmp/d2/deck.yaml" ] || die "deck.yaml written beside an old list"
    rm "$tmp/d2/termination.csv"
    expect 0 import_fixtures "$tmp/d2"
    [ "$(cat "$tmp/d2/notes.txt")" = keep ] || die "notes.txt changed"
    [ "$(ls -A "$tmp/d2" | wc -l)" -eq 3 ] || die "leftovers in the folder"
    ;;
usage)
    cd "$fx" || die "no fixtures"
    expect 64 "$rate" --import-prices --out "$tmp/d" us.json ca.csv
    has "ca.csv is a CSV price list, which names no currency: give --currency"
    expect 64 "$rate" --import-prices --out "$tmp/d" --currency US us.json
    has '--currency: not 3 letters: "US"'
    expect 64 "$rate" --import-prices us.json
    has "--import-prices needs --out DIR"
    expect 64 "$rate" --import-prices --out "$tmp/d"
    has "needs at least one price list"
    expect 64 "$rate" --import-prices --out "$tmp/d" --deck x.yaml us.json
    has "--import-prices takes only --out, --currency, --deck-name and --quiet"
    expect 64 "$rate" --currency USD --deck "$src/rates/example.yaml" calls.csv
    has "--currency and --deck-name go with --import-prices"
    expect 64 "$rate" --import-prices --out "$tmp/my deck" us.json
    has 'the name of --out "my deck" is not a deck name'
    expect 64 "$rate" --import-prices --out "$tmp/d" --deck-name "a b" us.json
    [ ! -e "$tmp/d" ] && [ ! -e "$tmp/my deck" ] || die "something was written"
    expect 0 "$rate" --quiet --import-prices --out "$tmp/my deck" \
        --deck-name my-deck us.json
    grep -q '^deck: "my-deck"$' "$tmp/my deck/deck.yaml" || die "deck name"
    # a file that cannot be read is exit 1, nothing written
    expect 1 "$rate" --import-prices --out "$tmp/d" us.json no-such.json
    has "no-such.json: cannot open price list"
    [ ! -e "$tmp/d" ] || die "something was written"
    "$rate" --help | grep -q -- "--import-prices" || die "--help"
    ;;
quiet)
    # --quiet drops the summary line, not the origination notice: those
    # prices are not in the deck yet
    expect 0 sh -c "cd '$fx' && '$rate' --quiet --import-prices --out '$tmp/d' --currency USD us.json gb.json ca.csv"
    has "3 origination prices are by number type"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || { cat "$tmp/err"; die "more than the notice"; }
    expect 0 "$rate" --quiet --import-prices --out "$tmp/e" --currency USD "$fx/ca.csv"
    [ ! -s "$tmp/err" ] || { cat "$tmp/err"; die "a CSV has no origination notice"; }
    ;;
*)
    die "unknown case $case_name"
    ;;
esac
exit 0
