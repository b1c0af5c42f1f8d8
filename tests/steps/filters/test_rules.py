"""Every filter's rule names: the ones it writes in the ledger are the ones ``rules_off`` accepts, and
a rule named in ``rules_off`` removes nothing."""
from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.steps.filters import boilerplate, byline, truncated
from tests.steps.filters import test_boilerplate, test_byline, test_truncated
from tests.steps.filters.support import judge

DEFAULT = Path(__file__).parents[3] / "configs" / "default.yaml"


def _examples(test, position):
    """The real lines a parametrized test of a filter's module runs on."""
    mark = next(m for m in test.pytestmark if m.name == "parametrize")
    return [row[position] if isinstance(row, tuple) else row for row in mark.args[1]]


def _rules_written(flt, texts, lang="en"):
    for text in texts:
        judge(text, lang, flt)
    return {key.split("-", 2)[2] for key in flt.counts}


def test_the_rules_a_filter_writes_are_its_declared_rules():
    furniture = _rules_written(boilerplate.BoilerplateFilter(boilerplate.BoilerplateConfig()),
                               _examples(test_boilerplate.test_site_furniture, 0))
    assert furniture and furniture <= set(boilerplate.RULES)
    credits = _rules_written(byline.BylineFilter(byline.BylineConfig()), _examples(test_byline.test_bylines, 0))
    assert credits and credits <= set(byline.RULES)
    cuts = _rules_written(truncated.TruncatedFilter(truncated.TruncatedConfig()),
                          _examples(test_truncated.test_truncated_paragraphs_are_caught, 0))
    assert cuts and cuts <= set(truncated.RULES)


def test_a_rule_turned_off_removes_nothing_and_the_others_still_apply():
    text = "Trump's comments on the state of U.S.\n\nHe met the"
    flt = truncated.TruncatedFilter(truncated.TruncatedConfig(rules_off=("abbreviation_end",)))
    assert judge(text, "en", flt) == [("He met the", "truncated")]
    paywall = "Comentar las notas de Clarín es exclusivo para suscriptores."
    assert judge(paywall, "es", boilerplate.BoilerplateFilter(boilerplate.BoilerplateConfig(rules_off=("paywall",)))) == []
    assert judge("Quelle: dpa", "de", byline.BylineFilter(byline.BylineConfig(rules_off=("source_credit",)))) == []


def test_rules_off_is_read_from_the_config_and_a_name_that_is_no_rule_stops_the_run():
    cfg = config.load(DEFAULT, {"filters.boilerplate.rules_off": ["paywall", "click_here"]})
    assert cfg.filters.boilerplate.rules_off == ("paywall", "click_here")
    with pytest.raises(ConfigError, match=r"'filters\.truncated\.rules_off' names no rule of this filter: no_end_punct"):
        config.load(DEFAULT, {"filters.truncated.rules_off": ["no_end_punct"]})
