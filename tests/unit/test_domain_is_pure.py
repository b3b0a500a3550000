"""The domain is framework-free: importing all of it starts neither MindSpore nor Pillow."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import domain
names = [m.name for m in pkgutil.walk_packages(domain.__path__, "domain.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def fresh_import():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_domain_module_is_imported_by_the_probe(fresh_import):
    on_disk = {f"domain.{p.stem}" for p in (ROOT / "domain").glob("*.py") if p.stem != "__init__"}
    assert on_disk <= set(fresh_import["imported"])
    assert "domain.pyramid" in fresh_import["imported"]


@pytest.mark.parametrize("framework", ["mindspore", "PIL"])
def test_importing_the_domain_loads_no_framework(fresh_import, framework):
    loaded = [m for m in fresh_import["modules"] if m == framework or m.startswith(framework + ".")]
    assert loaded == []


def test_importing_the_domain_loads_none_of_the_outer_layers(fresh_import):
    outer = [m for m in fresh_import["modules"] if m.split(".")[0] in {"adapters", "app"}]
    assert outer == []
