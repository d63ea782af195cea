#!/bin/sh
# Installs what referee needs to build, run and test on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev \
    libpq-dev libcsv-dev libyaml-dev libcmocka-dev libpcap-dev libssl-dev \
    libjansson-dev zlib1g-dev \
    postgresql-15 postgresql-common postgresql-client-15 \
    sip-tester tcpdump iproute2 python3 ca-certificates
