"""Make the example importable when its tests run from the project checkout without
``pip install -e examples/third_party_plugin`` (a plugin author would install it first)."""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("massgen_plugins_dedupe") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
