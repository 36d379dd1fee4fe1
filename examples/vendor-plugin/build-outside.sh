#!/usr/bin/env bash
# Builds this example plugin against a cryo distribution's SDK only — not against cryo's source tree — and prints
# the path of the plugin jar it built (and nothing else on stdout; Maven's output goes to stderr).
#
#   build-outside.sh DIST_DIR OUT_DIR
#
#   DIST_DIR  an unpacked cryo tarball: its sdk/ provides the parent POM, the api and the test kit (sdk/install.sh),
#             and the Maven wrapper; its bin/cryo runs the test kit's tests (PidfdKitIT) on real processes
#   OUT_DIR   created if missing: OUT_DIR/project (a copy of this directory, built there) and the jar
#
# Environment:
#   CRYO_SDK_REPO  the local Maven repository to build with (default ~/.cache/cryo-sdk/repository): the SDK is
#                  (re)installed into it first; third-party artifacts are downloaded from Maven Central once and kept
#   CRYO_SKIP_ITS  1: build and run the unit tests only, not the test kit's dump/restore tests (they need root)
#   MVN            the Maven command (default: DIST_DIR/sdk/mvnw, Maven 3.9)
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 DIST_DIR OUT_DIR" >&2
    exit 2
fi
here=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
dist=$(readlink -f -- "$1") || { echo "build-outside.sh: no such directory: $1" >&2; exit 2; }
if [ ! -x "$dist/sdk/install.sh" ] || [ ! -x "$dist/bin/cryo" ]; then
    echo "build-outside.sh: $dist is not a cryo distribution with an SDK (no sdk/install.sh or bin/cryo)" >&2
    exit 2
fi
mkdir -p -- "$2"
out=$(readlink -f -- "$2")
repo=${CRYO_SDK_REPO:-$HOME/.cache/cryo-sdk/repository}
mvn=${MVN:-$dist/sdk/mvnw}

# a fresh copy of the project, without any earlier build output
rm -rf -- "$out/project"
mkdir -p -- "$out/project"
tar -C "$here" --exclude=./target -cf - . | tar -C "$out/project" -xf -

# one build at a time per repository: the SDK's artifacts are replaced in it
mkdir -p -- "$repo"
exec 9>"$repo/.cryo-sdk.lock"
flock 9
"$dist/sdk/install.sh" "$repo" >&2

goal=verify
if [ "${CRYO_SKIP_ITS:-0}" = 1 ]; then
    goal=package
fi
(cd "$out/project" && "$mvn" -B -ntp -Dmaven.repo.local="$repo" -Dcryo.dist="$dist" clean "$goal") >&2

shopt -s nullglob
jars=()
for j in "$out"/project/target/*.jar; do
    case "$j" in *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;; esac
    jars+=("$j")
done
if [ ${#jars[@]} -ne 1 ]; then
    echo "build-outside.sh: expected one plugin jar in $out/project/target, found ${#jars[@]}" >&2
    exit 1
fi
cp -- "${jars[0]}" "$out/"
echo "$out/$(basename -- "${jars[0]}")"
