"""Every file format Backchannel reads or writes, and nothing else.

What lives where:

* :mod:`~backchannel.formats.files`: the one place that reads bytes from disk (size
  bound, UTF-8 decoding, control characters) and the one atomic writer;
* :mod:`~backchannel.formats.dispatch`: the one place that tells a format from a path;
* :mod:`~backchannel.formats.documents`: the one reader of YAML and JSON text (case and
  conflict files, ``.gmcr``, GeniusWeb JSON): data, the line of any place in it,
  duplicate keys refused, and the bounds on nesting, aliases and numbers;
* :mod:`~backchannel.formats.cases`: a negotiation case from any input (case file,
  Genius folder or file) and to any output (case file, Genius XML folder);
* :mod:`~backchannel.formats.case_data` (parsed data to a
  :class:`~backchannel.model.case.Case`, with located messages) and
  :mod:`~backchannel.formats.case_file` (a ``Case`` written as YAML/JSON);
* :mod:`~backchannel.formats.genius`: Genius XML and GeniusWeb JSON domains and
  profiles, read, and Genius XML written;
* :mod:`~backchannel.formats.conflicts`: a GMCR conflict file by path, read and
  written; :mod:`~backchannel.formats.conflict_file` (YAML/JSON) and
  :mod:`~backchannel.formats.gmcr` (GMCR+ ``.gmcr``) do the text.

Readers return the file models of :mod:`backchannel.model` (a ``Case``, a
``ConflictFile``) and report every problem as a located
:class:`~backchannel.errors.CaseFileError`; compiling them is the engines' work.
Adding a format: a module here that turns text into a file model and back, a
:class:`~backchannel.formats.dispatch.FileKind` for its suffix, and a branch in
``cases`` or ``conflicts``.
"""
