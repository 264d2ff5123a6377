#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh demo   build the environment, set up the demo on embedded SQLite and serve it
#   ./dev.sh test   build the environment and run every quality gate and the whole test suite
# Needs only Python 3.11 with venv/pip. The environment lives in .venv (GMINA_VENV to move it).
set -euo pipefail
cd "$(dirname "$0")"
VENV="${GMINA_VENV:-.venv}"

ensure_env() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "dev.sh: creating $VENV" >&2
        python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
    fi
    local stamp
    stamp="$VENV/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "dev.sh: installing gmina and its dependencies into $VENV" >&2
        if ! { "$VENV/bin/python" -m pip install --upgrade "pip>=24,<27" &&
               "$VENV/bin/python" -m pip install -e ".[dev]"; } > "$VENV/install.log" 2>&1; then
            cat "$VENV/install.log" >&2
            echo "dev.sh: installation failed (log above, also in $VENV/install.log)" >&2
            exit 1
        fi
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    demo)
        ensure_env
        exec "$VENV/bin/gmina" demo "$@"
        ;;
    test)
        ensure_env
        PATH="$PWD/$VENV/bin:$PATH" exec bash scripts/test.sh "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | ./dev.sh test" >&2
        exit 2
        ;;
esac
