#!/usr/bin/env bash
# Installs the Cryo plugin SDK of this distribution — the Maven artifacts in sdk/repository: dev.cryo:cryo-parent,
# dev.cryo:cryo-plugin-parent, dev.cryo:cryo-api (+ sources, javadoc), dev.cryo:cryo-plugin-testkit — into a local
# Maven repository, replacing what it held for this cryo version.
#
#   sdk/install.sh           into ~/.m2/repository (Maven's default local repository)
#   sdk/install.sh DIR       into DIR (then build with mvn -Dmaven.repo.local=DIR)
#
# Third-party artifacts (protobuf, pf4j, JUnit, Maven's own plugins) come from Maven Central as usual.
set -euo pipefail
sdk=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
src="$sdk/repository"
repo=${1:-$HOME/.m2/repository}

if [ ! -d "$src/dev/cryo" ]; then
    echo "install.sh: $src/dev/cryo is missing: this is not a complete cryo distribution" >&2
    exit 1
fi
mkdir -p -- "$repo"
repo=$(readlink -f -- "$repo")
for version_dir in "$src"/dev/cryo/*/*/; do
    rel=${version_dir#"$src"/}
    rm -rf -- "${repo:?}/$rel"
    mkdir -p -- "$repo/$rel"
    cp -- "$version_dir"* "$repo/$rel"
done
echo "installed the cryo SDK ($(cd "$src/dev/cryo" && echo */* | tr ' ' ',')) into $repo"
