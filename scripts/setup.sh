#!/usr/bin/env bash
# Build the project's virtual environment from the pinned requirements.
# Usage: [PYTHON=python3.12] scripts/setup.sh VENV REQUIREMENTS
# (through make: SETUP_PYTHON=python3.12 make setup, since the Makefile's own
# PYTHON is the venv's interpreter and make passes that one on).
# Needs a Python >= 3.11 that can make a venv (ensurepip). Java is needed only
# to run Spark on this machine (the embedded default: make demo, test, bench);
# with VMs the controller never runs a JVM, so a missing Java is only a note.
set -euo pipefail
venv=${1:-.venv}
requirements=${2:-requirements.lock}
# The Python that builds the venv: SETUP_PYTHON, else PYTHON, else python3.
python_env=${PYTHON:-}
if [ "$python_env" = "$venv/bin/python" ]; then
    # make exports its own PYTHON (the venv's, which does not exist yet).
    echo "note: ignoring PYTHON=$python_env, the Makefile's; to choose the Python through make," \
        "use SETUP_PYTHON=" >&2
    python_env=
fi
python=${SETUP_PYTHON:-${python_env:-python3}}

python_help() {
    echo "Install Python 3.11 or newer with venv support, e.g.:" >&2
    echo "  sudo apt-get install python3 python3-venv      (Debian/Ubuntu)" >&2
    echo "  brew install python@3.12                        (macOS; or the installer from python.org)" >&2
    echo "or point SETUP_PYTHON= at one: SETUP_PYTHON=python3.12 make setup" >&2
    echo "  (PYTHON=python3.12 $0 ... when running this script directly)" >&2
    local found="" candidate
    for candidate in python3.11 python3.12 python3.13 python3.14; do
        if command -v "$candidate" >/dev/null 2>&1; then found="$found $candidate"; fi
    done
    if [ -n "$found" ]; then echo "found on PATH:$found" >&2; fi
}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: Python not found: $python" >&2
    python_help
    exit 1
fi
if ! python_version=$("$python" -c \
        'import sys; print("%d.%d" % sys.version_info[:2]); sys.exit(sys.version_info < (3, 11))' \
        2>/dev/null); then
    echo "error: $python is Python ${python_version:-of unknown version}; nodewise needs 3.11 or newer" >&2
    python_help
    exit 1
fi
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "error: $python (Python $python_version) cannot make a venv: ensurepip is missing" >&2
    python_help
    exit 1
fi

java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

java_note() {
    echo "note: $1. Java 17 or 21 is needed only for the embedded default" >&2
    echo "  (make demo, make test, make bench run Spark on this machine); the VM path does not need it:" >&2
    echo "  sudo apt-get install openjdk-17-jre-headless   (Debian/Ubuntu; Debian 13: openjdk-21-jre-headless)" >&2
    echo "  brew install openjdk@17                        (macOS)" >&2
}

java_state="no Java"
if ! command -v java >/dev/null 2>&1; then
    java_note "Java not found"
else
    major=$(java_major || true)    # macOS's java stub fails when no JDK is installed
    if [ "$major" = 17 ] || [ "$major" = 21 ]; then
        java_state="Java $major"
    elif [ -z "$major" ]; then
        java_note "java gives no version (is a JDK installed?)"
        java_state="no working Java"
    else
        java_note "Java $major found; Spark 4 needs 17 or 21"
        java_state="Java $major, unsupported"
    fi
fi

# The stamp file marks a complete install; a failed one leaves none.
rm -f "$venv/.nodewise-installed"
"$python" -m venv "$venv"
# --no-compile: pip would byte-compile every file of every package (48 s of a
# 67 s setup here); compileall below does the packages the commands import.
"$venv/bin/pip" install --quiet --no-compile -r "$requirements"
# The project itself, editable (pyproject.toml): the node package (jobs/nodewise)
# and the controller CLI, with .venv/bin/nodewise. Built with the pinned
# setuptools just installed, so no build step reads the package index.
project=$(cd "$(dirname "$0")/.." && pwd)
"$venv/bin/pip" install --quiet --no-compile --no-deps --no-build-isolation --editable "$project"
# Byte-compile what the commands import, on every core: without it each
# process compiles it anew wherever PYTHONDONTWRITEBYTECODE is set (CI and
# container images): 3 s more for every nodewise command and 1 s for every
# Spark Python worker. The Ansible collections (15,000 files the playbooks do
# not use) and test folders are left out: about 10 s instead of pip's 48.
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$venv/bin/python" -m compileall -q -j 0 -x '/ansible_collections/|/tests?/' "$site_packages" >/dev/null
touch "$venv/.nodewise-installed"
echo "ready: $venv (Python $python_version, $java_state)"
