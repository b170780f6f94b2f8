#!/usr/bin/env bash
# Sets up hilbench on a Debian/Ubuntu machine that has Python 3 and git, then runs a job.
#   ./bootstrap.sh bench   the reference suite on the default emulated boards, then the table against
#                          TFLite Micro, ending in an HTML report
#   ./bootstrap.sh test    ruff, mypy --strict, the harness's own tests and doctests, the reference suite
#   ./bootstrap.sh setup   set up only
# Installs, when missing: gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm, gcc (for the
# QEMU plugin), python3-venv, chromium (for the report's browser test) and postgresql (for the SQL store's
# tests), with apt-get, through sudo
# when not root; then a virtual environment in .venv with the Python dependencies, and builds the
# instruction-counting QEMU plugin.
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-setup}"
shift || true

need=()
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# the report's browser test drives Debian's chromium with Playwright (whose own download cannot work offline)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
# the SQL store's tests start a throwaway PostgreSQL cluster with Debian's initdb and pg_ctl
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"
  else
    echo "bootstrap: missing system packages: ${need[*]}" >&2
    echo "bootstrap: not root and no password-less sudo; install them with: sudo apt-get install ${need[*]}" >&2
    exit 2
  fi
  echo "bootstrap: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[models,dev,lab]'
# Keras 2 for the LSTM converter test (pyproject.toml says why it is not an extra), matched to TensorFlow's version
tf_minor=$(.venv/bin/python -c 'import importlib.metadata as m; print(".".join(m.version("tensorflow-cpu").split(".")[:2]))')
.venv/bin/python -m pip install -q --no-deps "tf_keras~=${tf_minor}.0"
.venv/bin/python -c 'from harness.targets.plugin_build import build_plugin; print("bootstrap: QEMU plugin", build_plugin())'

case "$job" in
  setup) ;;
  bench) status=0  # the suite on two boards, the comparison with TFLite Micro on the default board, the report
         .venv/bin/python -m pytest suites/mlperf_tiny --hil-board qemu-m4 --hil-board qemu-m7 -p no:cacheprovider "$@" || status=$?
         .venv/bin/hilbench bench --board qemu-m4 || status=$?
         .venv/bin/python benchmarks/suite_walltime.py --board qemu-m4 || status=$?  # harness vs bare QEMU, <= 1.3x
         .venv/bin/hilbench report results -o results/report.html || status=$?  # prints its path and contents
         exit "$status" ;;
  test)  # static checks, the harness's tests and doctests, then the reference suite; every step must pass
         .venv/bin/ruff check harness tests suites benchmarks
         .venv/bin/mypy --strict harness
         .venv/bin/python -m pytest --doctest-modules harness -p no:cacheprovider -q
         .venv/bin/python -m pytest tests -p no:cacheprovider "$@"
         rm -rf build/ci-results build/ci-results-n2
         .venv/bin/python -m pytest suites/mlperf_tiny --hil-board qemu-m4 -p no:cacheprovider \
           --hil-results-dir build/ci-results
         # the same suite on two workers (pytest-xdist) must count exactly what the serial run counted
         .venv/bin/python -m pytest suites/mlperf_tiny --hil-board qemu-m4 -p no:cacheprovider -n 2 -q \
           --hil-results-dir build/ci-results-n2
         .venv/bin/python benchmarks/same_counts.py build/ci-results build/ci-results-n2 ;;
  *) echo "bootstrap: unknown job '$job'; expected bench, test or setup" >&2; exit 2 ;;
esac
