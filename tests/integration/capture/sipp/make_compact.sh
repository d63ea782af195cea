#!/bin/sh
# Write compact/*.xml: the termination PBX and carrier scenarios with every
# header they write in its compact form (RFC 3261 7.3.3, RFC 3515, RFC 3892,
# RFC 6665): v f t i m l c o r b, and "u" for Allow-Events is left out.
set -eu
cd "$(dirname "$0")"
mkdir -p compact
for f in pbx_uac.xml carrier_uas.xml; do
    sed -e 's/^\(      \)Via: /\1v: /' -e 's/^\(      \)From: /\1f: /' \
        -e 's/^\(      \)To: /\1t: /' -e 's/^\(      \)Call-ID: /\1i: /' \
        -e 's/^\(      \)Contact: /\1m: /' \
        -e 's/^\(      \)Content-Length: /\1l: /' \
        -e 's/^\(      \)Content-Type: /\1c: /' \
        -e 's/^\(      \)Event: /\1o: /' -e 's/^\(      \)Refer-To: /\1r: /' \
        -e 's/^\(      \)Referred-By: /\1b: /' \
        -e 's/header="From:"/header="f:"/' -e 's/header="Contact:"/header="m:"/' \
        -e 's/<scenario name="/<scenario name="compact headers: /' \
        "$f" >compact/"$f"
done
