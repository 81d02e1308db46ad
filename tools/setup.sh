#!/usr/bin/env bash
# Install everything rosetta_stats needs on a Debian 12 machine, idempotently.
# A second run only checks and takes a few seconds.
#   bash tools/setup.sh        everything (tests, PostgreSQL, dask)
#   bash tools/setup.sh demo   only what `make demo` needs
set -euo pipefail
PROFILE="${1:-full}"

here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
export DEBIAN_FRONTEND=noninteractive

APT_PACKAGES=(
  python3-venv python3-pip python3-setuptools python3-wheel python3-dev cython3
  python3-numpy python3-pandas python3-scipy python3-statsmodels python3-sklearn python3-threadpoolctl
  python3-matplotlib python3-tqdm python3-rpy2 python3-imblearn python3-pytest python3-hypothesis
  libopenblas0-pthread
  r-base-core r-cran-dplyr r-cran-dbplyr r-cran-dbi r-cran-rsqlite r-cran-tibble
  r-cran-tidyr r-cran-purrr r-cran-rlang r-cran-magrittr r-cran-futile.logger
  r-cran-caret r-cran-doparallel r-cran-foreach r-cran-matrix r-cran-stringr
  r-cran-jsonlite r-cran-digest r-cran-testthat r-cran-withr r-cran-roxygen2
  r-cran-rmarkdown r-cran-knitr pandoc
  python3-distributed python3-psycopg2 postgresql libpq-dev
  r-cran-bit64 r-cran-blob r-cran-hms r-cran-lubridate r-cran-rcpp r-cran-plogr
  r-bioc-org.hs.eg.db r-bioc-go.db r-bioc-limma r-cran-reticulate python3-anndata
)
CRAN_PACKAGES=(cytominer RPostgres nanoparquet)
# what only the tests and the server-side features need
TEST_ONLY=(python3-pytest python3-hypothesis python3-distributed python3-psycopg2 postgresql libpq-dev
           r-cran-testthat r-cran-withr r-cran-rmarkdown r-cran-knitr pandoc RPostgres nanoparquet
           r-bioc-org.hs.eg.db r-bioc-go.db)
if [[ "$PROFILE" == "demo" ]]; then
  keep=()
  for p in "${APT_PACKAGES[@]}"; do [[ " ${TEST_ONLY[*]} " == *" $p "* ]] || keep+=("$p"); done
  APT_PACKAGES=("${keep[@]}")
  keep=()
  for p in "${CRAN_PACKAGES[@]}"; do [[ " ${TEST_ONLY[*]} " == *" $p "* ]] || keep+=("$p"); done
  CRAN_PACKAGES=("${keep[@]}")
fi

say() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages (only the missing ones).
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. CRAN packages that Debian does not ship (only if missing).
for p in "${CRAN_PACKAGES[@]}"; do
  if ! Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" >/dev/null 2>&1; then
    say "installing R package $p from the configured R repositories"
    Rscript -e "install.packages('$p', quiet = TRUE); quit(status = !requireNamespace('$p', quietly = TRUE))"
  fi
done

# 3. The r_bridge R package (reinstalled when its sources change).
# the Python it records (this checkout's .venv) is part of what it was installed with
bridge_python="$PWD/.venv/bin/python"
bridge_hash="$( (find r_bridge -type f ! -path '*/tests/*' -print0 | sort -z | xargs -0 sha256sum; echo "$bridge_python") | sha256sum | cut -c1-16)"
installed_hash="$(Rscript -e "cat(if (requireNamespace('rosettabridge', quietly = TRUE)) utils::packageDescription('rosettabridge')[['SourceHash']] else '')" 2>/dev/null || true)"
if [[ "$installed_hash" != "$bridge_hash" ]]; then
  say "installing the rosettabridge R package"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp -r r_bridge "$tmp/rosettabridge"
  rm -rf "$tmp/rosettabridge/tests"
  printf 'SourceHash: %s\n' "$bridge_hash" >> "$tmp/rosettabridge/DESCRIPTION"
  ROSETTABRIDGE_PYTHON_AT_INSTALL="$bridge_python" R CMD INSTALL --no-test-load "$tmp/rosettabridge" \
    >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
fi

# 4. The Python virtual environment with an editable install.
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv (Debian python3, system site packages)"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
# reinstalled when the build inputs change (the compiled lasso kernel is built in place)
py_hash="$(cat pyproject.toml setup.py rosetta_stats/stats/kernels/_gram_lasso.pyx \
  rosetta_stats/stats/kernels/gram_lasso_axpy.h | sha256sum | cut -c1-16)"
if [[ "$(cat .venv/.rosetta-install 2>/dev/null || true)" != "$py_hash" ]] \
   || ! .venv/bin/python -c "import rosetta_stats.stats.kernels._gram_lasso" >/dev/null 2>&1; then
  say "installing rosetta_stats into .venv (editable)"
  .venv/bin/pip install --quiet --no-build-isolation --no-deps --no-index -e .
  echo "$py_hash" > .venv/.rosetta-install
fi
say "ready"
