"""The conflict file: its data model, statement language and file formats.

See ``docs/conflict-file.md`` for the reference of every key.
"""

from backchannel.model.conflict.checks import CheckedConflict, Cube, check_conflict
from backchannel.model.conflict.gmcr_format import read_gmcr_text, write_gmcr
from backchannel.model.conflict.loader import (
    conflict_from_data,
    dump_conflict,
    read_conflict_file,
    read_conflict_text,
)
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
    "conflict_from_data",
    "dump_conflict",
    "format_statement",
    "holds",
    "parse_statement",
    "read_conflict_file",
    "read_conflict_text",
    "read_gmcr_text",
    "write_gmcr",
]
