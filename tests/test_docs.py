"""The documentation's promises: the worked example of a filter in docs/architecture.md works as
written (in a copy of the package: a module, a config key and a test, nothing else), and the
README cites nothing a user does not have."""
import re
import shutil
import subprocess
import sys

from tests.support import ROOT

ARCH = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _block(after: str, lang: str) -> str:
    at = ARCH.index(after)
    return re.search(rf"```{lang}\n(.*?)```", ARCH[at:], re.S).group(1)


def test_the_worked_example_of_a_filter_works_as_written(tmp_path):
    shutil.copytree(ROOT / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    (tmp_path / "configs").mkdir()
    (tmp_path / "pipeline" / "steps" / "filters" / "shouting.py").write_text(
        _block("### The module", "python"), encoding="utf-8")
    default = (ROOT / "configs" / "default.yaml").read_text(encoding="utf-8")
    key = _block("### The config key", "yaml").split("\n", 1)[1]          # under the existing "filters:"
    (tmp_path / "configs" / "default.yaml").write_text(default.replace("\nfilters:\n", "\nfilters:\n" + key),
                                                       encoding="utf-8")
    test = tmp_path / "tests" / "steps" / "filters" / "test_shouting.py"
    test.write_text(_block("### The test", "python"), encoding="utf-8")
    check = ("from pipeline import config\n"
             "from pipeline.steps import build\n"
             "cfg = config.load('configs/default.yaml')\n"
             "assert cfg.filters.shouting.min_words == 4\n"
             "assert config.REASONS['shouting'].stage == 'filters'\n"
             "print([type(s).__name__ for s in build(cfg)])\n")
    r = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "'BylineFilter', 'BoilerplateFilter', 'ShoutingFilter', 'TruncatedFilter'" in r.stdout  # by order, name
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr


def test_the_readme_is_a_users_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) < 20_000
    assert "../shared" not in readme
    assert "make clean-corpus" in readme and "make test" in readme
