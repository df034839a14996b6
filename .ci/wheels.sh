#!/usr/bin/env bash
# Packaging check: build a wheel for EVERY distribution (the core and each plugins/*), install them
# into a clean virtual environment, and check there that `massgen-plugins list --json` loads the
# plugin of every plugin distribution and that each wheel carries its LICENSE.
#
# Offline-capable: wheels are built without build isolation (hatchling comes from the dev install,
# so no build dependency is downloaded); the clean environment's runtime dependencies come from
# whatever index / find-links pip is configured with (a local wheelhouse works).
# Usage: bash .ci/wheels.sh   (from the dev venv; prints one line per distribution)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dists=(.)
for dir in plugins/*/; do
  [ -f "$dir/pyproject.toml" ] && dists+=("${dir%/}")
done
for dist in "${dists[@]}"; do
  python -m build --wheel --no-isolation --outdir "$work/wheels" "$dist" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; echo "wheel build failed: $dist" >&2; exit 1; }
done

python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$work"/wheels/*.whl

# run from outside the checkout, with a private home and no plugin selection, so only the wheels count
(cd "$work" && env -u MASSGEN_PLUGINS_LOAD -u MASSGEN_PLUGINS_DISABLED MASSGEN_PLUGINS_HOME="$work/home" \
  "$work/venv/bin/massgen-plugins" list --json >"$work/list.json")
(cd "$work" && "$work/venv/bin/python" -c "import massgen_plugins, sys; \
  sys.exit(0 if massgen_plugins.__file__.startswith('$work/venv') else 'massgen_plugins imported from the checkout')")

python - "$work" "$repo" "${dists[@]}" <<'PY'
import json, sys, zipfile
from pathlib import Path

work, repo, dists = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
plugins = {p["distribution"]: p for p in json.loads((work / "list.json").read_text()) if not p.get("builtin")}
license_text = (repo / "LICENSE").read_text()
wheels = sorted((work / "wheels").glob("*.whl"))
assert len(wheels) == len(dists), f"{len(dists)} distributions but {len(wheels)} wheels"
failures = []
for wheel in wheels:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        ok_license = bool(licenses) and zf.read(licenses[0]).decode() == license_text \
            and "License-Expression: Apache-2.0" in meta
    dist = next(line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Name: "))
    status = "core" if dist == "massgen-plugins" else (plugins.get(dist) or {}).get("status", "missing")
    good = ok_license and status in ("core", "loaded")
    print(f"{'ok  ' if good else 'FAIL'} {wheel.name:<52} plugin: {status:<8} LICENSE: {'yes' if ok_license else 'no'}")
    if not good:
        failures.append(dist)
if failures:
    sys.exit(f"packaging check failed for: {', '.join(failures)}")
print(f"{len(wheels)} wheels built and installed into a clean venv; every plugin loads")
PY
