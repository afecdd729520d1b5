"""The conflict file: its data model, statement language and cross-reference checks.

See ``docs/reference/conflict-file.md`` for the reference of every key. Reading and writing
conflict files (YAML, JSON, GMCR+ ``.gmcr``) is :mod:`backchannel.formats.conflicts`.
"""

from backchannel.model.conflict.checks import CheckedConflict, Cube, check_conflict
from backchannel.model.conflict.schema import (
    ConflictFile,
    DecisionMakerSpec,
    OptionSpec,
    PreferenceSpec,
)
from backchannel.model.conflict.statements import (
    StatementSyntaxError,
    format_statement,
    holds,
    parse_statement,
)

__all__ = [
    "CheckedConflict",
    "ConflictFile",
    "Cube",
    "DecisionMakerSpec",
    "OptionSpec",
    "PreferenceSpec",
    "StatementSyntaxError",
    "check_conflict",
    "format_statement",
    "holds",
    "parse_statement",
]
