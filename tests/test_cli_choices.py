"""The command line's format choices are exactly the registries of the core."""

from __future__ import annotations

from opsplay.cli import choices


def test_format_choices_match_the_registries() -> None:
    from opsplay.diff.formats import FORMATS as DIFF_FORMATS
    from opsplay.formats import FORMATTERS as VALIDATE_FORMATS
    from opsplay.pilot.playbook_plan import FORMATS as PLAN_FORMATS
    from opsplay.pilot.presentation.formats import FORMATTERS as COMPARE_FORMATS
    from opsplay.render.documents import DOCUMENT_FORMATS

    pairs = [
        (choices.ValidateFormat, VALIDATE_FORMATS),
        (choices.CompareFormat, COMPARE_FORMATS),
        (choices.PlanFormat, PLAN_FORMATS),
        (choices.DocumentFormat, DOCUMENT_FORMATS),
        (choices.DiffFormat, DIFF_FORMATS),
    ]
    for choice, registry in pairs:
        assert {member.value for member in choice} == set(registry), choice.__name__


def test_language_and_correction_choices_match_the_core() -> None:
    from typing import get_args

    from opsplay.i18n import LANGUAGES
    from opsplay.pilot.stats import Correction, TestName, VarianceName

    assert {member.value for member in choices.Lang} == set(LANGUAGES)
    assert {member.value for member in choices.Correction} == set(get_args(Correction))
    assert {member.value for member in choices.Test} == set(get_args(TestName))
    assert {member.value for member in choices.Variance} == set(get_args(VarianceName))
