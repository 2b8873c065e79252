#!/bin/sh
# Installs the Debian packages fogbank builds, runs and is tested with.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt.
set -eu
PKGS="build-essential clang libssl-dev libsqlite3-dev sqlite3 zlib1g-dev python3 python3-botocore python3-boto3 awscli jq curl wrk procps clang-format postgresql-15 postgresql-client-15 util-linux redis-server redis-tools skopeo runc busybox-static strace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
