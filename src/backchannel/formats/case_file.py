"""Case files (YAML or JSON): a :class:`~backchannel.model.case.Case` written as text.

Reading is the other way round: :func:`~backchannel.formats.documents.read_document`
parses the text (with the line of every place in it) and
:mod:`backchannel.formats.case_data` turns the data into a ``Case``.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from backchannel.model.case import Case

__all__ = ["case_document", "dump_case"]


def case_document(case: Case) -> dict[str, Any]:
    """A case as plain data, ready for YAML or JSON."""
    data: dict[str, Any] = case.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def dump_case(case: Case, *, json_syntax: bool) -> str:
    """A case file's text: YAML, or JSON when ``json_syntax``."""
    if json_syntax:
        return json.dumps(case_document(case), indent=2, ensure_ascii=False)
    return str(yaml.safe_dump(case_document(case), sort_keys=False, allow_unicode=True))
