#!/usr/bin/env bash
# Wheels that the lent GPU machine lacks, into .whl/ (git-ignored), for scripts/gpu_benchmarks.sh:
#
#   scripts/gpu_wheels.sh            # then: run(command="bash scripts/gpu_benchmarks.sh", carry=[".whl"])
#
# The machine's image has JAX, NumPy, SciPy, pandas, pyarrow, xarray, matplotlib, rich and typer
# but not pydantic; nothing can be fetched there. The versions are this checkout's .venv's, the
# wheels for CPython $PYTHON_VERSION (3.12 there) on x86-64 Linux, and uprising itself is built
# from the working tree. About 3 MB.
set -eu
cd "$(dirname "$0")/.."
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
VENV_PYTHON=.venv/bin/python
[ -x "$VENV_PYTHON" ] || { echo "no .venv: run 'make test' or 'make demo' first" >&2; exit 1; }
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
rm -rf .whl && mkdir .whl
for name in pydantic pydantic-core annotated-types typing-inspection; do
    version=$("$VENV_PYTHON" -c "from importlib.metadata import version; print(version('$name'))")
    "$VENV_PYTHON" -m pip download -q --no-deps --only-binary=:all: \
        --python-version "$PYTHON_VERSION" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .whl "$name==$version"
done
"$VENV_PYTHON" -m pip wheel -q --no-deps -w .whl .
ls -l .whl
