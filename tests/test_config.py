import pytest

from tests.support import ROOT
from pipeline import config as config_mod
from pipeline.config import ConfigError


def _load(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return config_mod.load(p)


def test_default_config_loads_with_every_section():
    cfg = config_mod.load(ROOT / "configs" / "default.yaml")
    assert cfg.langid.backend == "cld2" and cfg.dedup.minhash_backend == "affine32"
    assert cfg.dedup.num_perm % cfg.dedup.bands == 0


def test_default_yaml_sets_every_key():
    """configs/default.yaml documents every key the code knows."""
    import yaml
    data = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())
    want = config_mod.Config().to_dict()

    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out
    assert keys(data) == keys(want)


@pytest.mark.parametrize("text, needle", [
    ("langid:\n  backendd: cld2\n", "unknown key 'langid.backendd'"),
    ("dedup:\n  num_perm: lots\n", "'dedup.num_perm' must be an integer"),
    ("dedup:\n  paragraph_threshold: 1.5\n", "'dedup.paragraph_threshold' must be <= 1.0"),
    ("dedup:\n  num_perm: 128\n  bands: 7\n", "'dedup.bands' (7) must divide 'dedup.num_perm' (128)"),
    ("langid:\n  backend: cld3\n", "'langid.backend' must be one of ['cld2', 'fasttext', 'langdetect']"),
    ("repair:\n  enabled: yes please\n", "'repair.enabled' must be true or false"),
    ("filters: [1, 2]\n", "'filters' must be a mapping"),
    ("- a\n- b\n", "must hold a mapping"),
    ("input:\n  paths: 3\n", "'input.paths' must be a list"),
])
def test_bad_values_name_the_key(tmp_path, text, needle):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    assert needle in str(e.value)


def test_overrides_are_validated_too():
    with pytest.raises(ConfigError, match="executor.workers"):
        config_mod.load(ROOT / "configs" / "default.yaml", {"executor.workers": -1})


def test_fingerprint_ignores_runtime_settings():
    a = config_mod.from_dict({"executor": {"workers": 1}, "output": {"path": "x"}})
    b = config_mod.from_dict({"executor": {"workers": 8}, "output": {"path": "y"}})
    c = config_mod.from_dict({"dedup": {"paragraph_threshold": 0.9}})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_readme_tables_are_current():
    """The README's tables of configuration keys and ledger reasons are what
    ``scripts/doc_tables.py`` prints from the registry (``--write`` puts them there)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    tables = subprocess.run([sys.executable, str(root / "scripts" / "doc_tables.py")], capture_output=True,
                            text=True, check=True).stdout.strip().split("\n\n")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert len(tables) == 2 and all(t.strip() in readme for t in tables)
