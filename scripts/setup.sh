#!/usr/bin/env bash
# Build the project's virtual environment from the pinned requirements.
# Usage: scripts/setup.sh VENV REQUIREMENTS
set -euo pipefail
venv=${1:-.venv}
requirements=${2:-requirements.lock}

java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

if ! command -v java >/dev/null 2>&1; then
    echo "error: Java not found. Spark 4 needs Java 17 or 21, e.g.:" >&2
    echo "  sudo apt-get install -y openjdk-17-jre-headless   (Debian/Ubuntu)" >&2
    exit 1
fi
major=$(java_major)
if [ "$major" != 17 ] && [ "$major" != 21 ]; then
    echo "error: Java $major found; Spark 4 needs Java 17 or 21, e.g.:" >&2
    echo "  sudo apt-get install -y openjdk-17-jre-headless   (Debian/Ubuntu)" >&2
    exit 1
fi

# The stamp file marks a complete install; a failed one leaves none.
rm -f "$venv/.nodewise-installed"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r "$requirements"
# Make the project's code importable from the venv: the shared job package
# (jobs/nodewise) and the controller CLI (nodewise_cli).
project=$(cd "$(dirname "$0")/.." && pwd)
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
printf '%s\n%s\n' "$project/jobs" "$project" > "$site/nodewise-project.pth"
touch "$venv/.nodewise-installed"
echo "ready: $venv (Java $major)"
