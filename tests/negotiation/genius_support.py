"""Helpers shared by the Genius import/export tests."""

from __future__ import annotations

from pathlib import Path

from backchannel.model.problem import Package, Problem

ANCHORS = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "anchors" / "genius-domains"
).resolve()


def anchor(name: str) -> Path:
    """The path of one anchor domain folder."""
    return ANCHORS / name


def package_of(problem: Problem, choice: dict[str, object]) -> Package:
    """A package from a mapping ``issue name -> option label or number``."""
    picks = []
    for issue in problem.issues:
        wanted = choice[issue.name]
        if wanted in issue.values:
            picks.append(issue.values.index(wanted))  # type: ignore[arg-type]
        else:
            picks.append(issue.labels.index(str(wanted)))
    return tuple(picks)


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """Write text files into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


DOMAIN_XML = """<negotiation_template>
<utility_space number_of_issues="2">
<objective index="0" name="root" type="objective" etype="objective">
  <issue index="1" name="Color" type="discrete" etype="discrete" vtype="discrete">
    <item index="1" value="red"/>
    <item index="2" value="blue"/>
    <item index="3" value="green"/>
  </issue>
  <issue index="3" name="Price" type="integer" etype="integer" vtype="integer"
         lowerbound="0" upperbound="10"/>
</objective>
</utility_space>
</negotiation_template>
"""

PROFILE_XML = """<utility_space>
<objective index="0" name="root" type="objective" etype="objective">
  <issue index="1" name="Color" type="discrete" etype="discrete" vtype="discrete">
    <item index="1" value="red" evaluation="2"/>
    <item index="2" value="blue" evaluation="4"/>
  </issue>
  <issue index="3" name="Price" type="integer" etype="integer" vtype="integer"
         lowerbound="0" upperbound="10">
    <evaluator ftype="linear" slope="0.2" offset="-0.4"/>
  </issue>
  <weight index="1" value="0.6"/>
  <weight index="3" value="0.4"/>
</objective>
<reservation value="0.25"/>
<discount_factor value="0.9"/>
</utility_space>
"""
