"""The results file of a study: a CSV file of records, appended to as they are
finished, locked while a run uses it, and resumed from.

Beside the CSV file, ``<results_file>.json`` holds the study's description: a run
resumes only the study it describes. While a run uses the file it holds an
operating-system lock on ``<results_file>.lock`` (removed when the run ends), so a
second run on the same file is refused at once instead of writing duplicate rows.
A file that a study did not write, be it a CSV file without a description or a
JSON file in the place of the description, is never replaced.

This module knows records only through a :class:`RecordSchema`, given by the
engine: their columns, how each is read back, which columns identify a record and
how a record is checked.
"""

import csv
import io
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ._atomic_file import write_atomically

__all__ = ["RecordSchema", "ResultsFile", "describe_differences"]

# The form of the results file; bumped if its columns or encoding change.
FORMAT = "geneperm_study results, version 2"
_FORMAT_PREFIX = "geneperm_study results"


@dataclass(frozen=True)
class RecordSchema:
    """The columns of the records of one kind of study.

    Parameters
    ----------
    fields : tuple of (str, callable)
        Each column's name and the function that reads its value back from the
        CSV text; a reader of ``"json"`` stores the value as JSON text (lists, or
        text that may hold line breaks) and reads it back with :func:`json.loads`,
        with None as an empty cell.

    key : tuple of str
        The columns that identify a record: a study has one record per key.

    check : callable, default=None
        ``check(record)`` raises ValueError, naming what is wrong, for a record
        whose values contradict each other (as a hand-edited row may).
    """

    fields: tuple
    key: tuple
    check: object = None

    @property
    def names(self):
        return [name for name, _ in self.fields]

    def key_of(self, record):
        return tuple(record[name] for name in self.key)

    def header(self):
        return ",".join(self.names) + "\n"

    def row(self, record):
        """The CSV row of ``record``: one physical line, unless a text field
        holds a line break (JSON cells never do; a study refuses such names)."""
        values = [
            _json_cell(record[name]) if read == "json" else record[name]
            for name, read in self.fields
        ]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue()

    def record(self, row):
        """The record of a row of CSV fields; raises ValueError."""
        if len(row) != len(self.fields):
            raise ValueError(f"it has {len(row)} fields, expected {len(self.fields)}")
        record = {}
        for (name, read), text in zip(self.fields, row, strict=True):
            try:
                if read == "json":
                    record[name] = json.loads(text) if text else None
                else:
                    record[name] = read(text)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{name} {text!r} cannot be read ({error})") from None
        if self.check is not None:
            self.check(record)
        return record


def _json_cell(value):
    return "" if value is None else json.dumps(value)


def describe_differences(stored, current, limit=8):
    """The places where two JSON-ready descriptions differ, each as
    ``path (in the file: ...; now: ...)`` with the differing values in full up to
    200 characters, so that the two shown values always differ."""
    differences = []
    absent = _Absent()

    def walk(path, old, new):
        if len(differences) >= limit:
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                walk(
                    f"{path}.{key}" if path else str(key),
                    old.get(key, absent),
                    new.get(key, absent),
                )
            return
        if (
            isinstance(old, list)
            and isinstance(new, list)
            and len(old) == len(new)
            and old
        ):
            for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
                walk(f"{path}[{index}]", old_item, new_item)
            return
        if _dumps(old) != _dumps(new):
            differences.append(
                f"{path} (in the file: {_shown(old, new)}; now: {_shown(new, old)})"
            )

    walk("", stored, current)
    return differences


class _Absent:
    """A key that one of two descriptions lacks (an estimator parameter left at
    its default is not described)."""

    def __repr__(self):
        return "absent"


def _dumps(value):
    if isinstance(value, _Absent):
        return "absent"
    return json.dumps(value, sort_keys=True, allow_nan=True)


def _shown(value, other, limit=200):
    """``value`` as JSON, cut to ``limit`` characters around where it first differs
    from ``other``."""
    if not isinstance(value, (dict, list, str, int, float, bool, type(None))):
        return "absent"
    text, other_text = _dumps(value), _dumps(other)
    if len(text) <= limit:
        return text
    start = 0
    while start < min(len(text), len(other_text)) and text[start] == other_text[start]:
        start += 1
    start = max(0, start - limit // 4)
    shown = text[start : start + limit]
    return (
        ("..." if start else "") + shown + ("..." if start + limit < len(text) else "")
    )


def _is_description(path):
    """Whether ``path`` holds a study description (so a study wrote it)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(stored, dict) and str(stored.get("format", "")).startswith(
        _FORMAT_PREFIX
    )


class _Lock:
    """An exclusive, non-blocking operating-system lock held on a lock file.

    The lock file is created if needed and removed on release; a process that
    finds it removed or replaced after locking it tries again, so two runs never
    hold locks on two different files of the same name.
    """

    def __init__(self, path):
        self.path = path
        self._file = None

    def acquire(self):
        """Take the lock; return False if another process holds it."""
        for _ in range(100):
            file = open(self.path, "a+b")  # noqa: SIM115 - held until release
            try:
                if not _try_lock(file):
                    file.close()
                    return False
                same = os.path.samestat(os.fstat(file.fileno()), os.stat(self.path))
            except FileNotFoundError:
                same = False
            except BaseException:
                file.close()
                raise
            if same:
                self._file = file
                return True
            file.close()  # removed by the run that held it: lock the new one
        raise OSError(f"Cannot lock {self.path}: it keeps being replaced.")

    def release(self):
        if self._file is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:  # in use elsewhere (Windows): left for the next run
            pass
        _unlock(self._file)
        self._file.close()
        self._file = None


if sys.platform == "win32":  # pragma: no cover - not run on the test machines
    import msvcrt

    def _try_lock(file):
        file.seek(0)
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(file):
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(file):
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(file):
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)


class ResultsFile:
    """An open results file: the records already in it, and a lock on it until
    :meth:`close`.

    Opening checks everything and changes nothing but the lock file unless the
    file is new (then the description and the header are written), or
    ``overwrite`` is given (then both are written afresh), or the file's last line
    was cut short by a killed run (then that line is dropped).

    Parameters
    ----------
    path : str or path-like
        The CSV file. A symbolic link is followed.

    description : dict
        The study's JSON-ready description.

    schema : RecordSchema
        The records' columns.

    caller : str
        The public function the file belongs to, for messages.

    overwrite : bool, default=False
        Replace the records of a different study (only files a study wrote).

    unresumable : str, default=None
        Why the description cannot tell this study from another: then records
        already in the file are refused rather than resumed.

    Attributes
    ----------
    records : dict
        The records read from the file, by key.

    n_records : int
        The number of records in the file now.
    """

    def __init__(
        self, path, description, *, schema, caller, overwrite=False, unresumable=None
    ):
        self.caller = caller
        self.schema = schema
        if os.fspath(path) in ("", b""):
            raise ValueError(
                f"The 'results_file' parameter of {caller} must be the path of a CSV "
                "file, such as 'study.csv'. Got the empty string ''."
            )
        self.path = Path(os.fspath(path))
        self.description_path = self.path.with_name(self.path.name + ".json")
        self._where = f"results_file {str(self.path)!r} of {caller}"
        for candidate in (self.path, self.description_path):
            if candidate.is_dir():
                raise ValueError(
                    f"The 'results_file' parameter of {caller} must name a file; "
                    f"{str(candidate)!r} is a folder."
                )
        if not self.path.parent.is_dir():
            raise ValueError(
                f"The 'results_file' parameter of {caller} must be in an existing "
                f"folder. Got {str(self.path)!r}, whose folder does not exist."
            )
        self._target = Path(os.path.realpath(self.path))
        self._lock = _Lock(self._target.with_name(self._target.name + ".lock"))
        if not self._lock.acquire():
            raise ValueError(
                f"The {self._where} is in use by another run, which holds its lock "
                f"{str(self._lock.path)!r}: two runs on one file would compute and "
                "write the same records twice. Wait for that run to finish (then "
                "call again to resume) or choose another results_file."
            )
        try:
            self._open(description, overwrite, unresumable)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, description, overwrite, unresumable):
        self.records = {}
        exists = self.path.exists()
        ours = _is_description(self.description_path)
        if (exists or self.description_path.exists()) and not ours:
            reason = (
                f"the study description that {self.caller} writes beside it, "
                f"{self.description_path.name!r}, does not exist"
                if exists and not self.description_path.exists()
                else f"{self.description_path.name!r}, where {self.caller} writes "
                "the study description, holds a file that is not one"
            )
            what = (
                "the file was not written by a study, or its description was removed"
                if exists
                else "it was not written by a study"
            )
            raise ValueError(
                f"The {self._where} cannot be used: {reason}; {what}. Refusing to "
                "replace or append to a file that a study did not write; move it "
                "away or choose another results_file."
            )
        if exists and not overwrite:
            self._check_description(description)
            self._read()
            if self.records and unresumable is not None:
                raise ValueError(
                    f"The {self._where} holds {len(self.records)} records, but this "
                    f"study cannot be told apart from another by its description: "
                    f"{unresumable}. Resuming could return the records of a "
                    "different study as this one's. Describe that value so that it "
                    "can be compared (a function, an estimator, or an object whose "
                    "state is in its attributes), or choose another results_file."
                )
        else:
            text = json.dumps(
                {"format": FORMAT, "study": description}, sort_keys=True, indent=1
            )
            # The records first: a run stopped between the two writes must not
            # leave an earlier study's rows under this study's description.
            write_atomically(self.path, self.schema.header())
            write_atomically(self.description_path, text + "\n")
        self.order = list(self.records)

    def _check_description(self, description):
        try:
            stored = json.loads(self.description_path.read_text(encoding="utf-8"))
            stored_format, study = stored["format"], stored["study"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"The study description {str(self.description_path)!r} beside the "
                f"{self._where} cannot be read ({error}). Move both files away or "
                "choose another results_file."
            ) from None
        if stored_format != FORMAT:
            raise ValueError(
                f"The {self._where} has the format {stored_format!r}; this version "
                f"reads {FORMAT!r}. Choose another results_file."
            )
        current = json.loads(json.dumps(description))
        if _dumps(study) != _dumps(current):
            differences = describe_differences(study, current)
            raise ValueError(
                f"The {self._where} holds the records of a different study, which "
                f"differs in {'; '.join(differences)}. Call with the same arguments "
                "to resume it, or choose another results_file."
            )

    def _read(self):
        with open(self._target, "rb") as file:
            content = file.read()
        complete = content[: content.rfind(b"\n") + 1]
        if len(complete) != len(content):
            # The last line was cut short when a run was killed: it is dropped.
            os.truncate(self._target, len(complete))
        try:
            text = complete.decode("utf-8")
        except UnicodeDecodeError as error:
            line = complete[: error.start].count(b"\n") + 1
            raise ValueError(
                f"Line {line} of the {self._where} is not UTF-8 text (the byte "
                f"{complete[error.start]:#04x} at position {error.start}): it was "
                "damaged or not written by a study. Move it away or choose another "
                "results_file."
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, None)
        except csv.Error as error:
            header = [f"<unreadable: {error}>"]
        if header is None:
            write_atomically(self.path, self.schema.header())
            return
        if header != self.schema.names:
            raise ValueError(
                f"The {self._where} has the columns {header}; expected "
                f"{self.schema.names}."
            )
        while True:
            try:
                row = next(reader, None)
            except csv.Error as error:
                row, problem = None, f"it is not a CSV row ({error})"
            else:
                if row is None:
                    break
                if not row:
                    continue  # a blank line, as an editor may leave
                try:
                    record = self.schema.record(row)
                    problem = None
                except ValueError as error:
                    problem = str(error)
            if problem is not None:
                raise ValueError(
                    f"Line {reader.line_num} of the {self._where} cannot be read as "
                    f"a record: {problem}. Was it edited by hand? Move the file away "
                    "or choose another results_file."
                )
            key = self.schema.key_of(record)
            if key in self.records:
                raise ValueError(
                    f"The {self._where} holds two records for {key} (line "
                    f"{reader.line_num} repeats one). Move the file away or choose "
                    "another results_file."
                )
            self.records[key] = record

    @property
    def n_records(self):
        # Read back from the file: a count kept beside the writes misses the
        # record whose line was written just before a Ctrl-C that lands between
        # the write and the count. (A file removed meanwhile holds none.)
        try:
            with open(self._target, newline="", encoding="utf-8") as file:
                n_rows = sum(1 for row in csv.reader(file) if row)
        except FileNotFoundError:
            return 0
        return max(n_rows - 1, 0)

    def append(self, record):
        """Append ``record`` as one line, flushed before returning."""
        with open(self._target, "a", newline="", encoding="utf-8") as file:
            file.write(self.schema.row(record))
        self.order.append(self.schema.key_of(record))

    def finish(self, records):
        """Once every record is in, put the rows in the order of ``records``."""
        keys = [self.schema.key_of(record) for record in records]
        if self.order != keys:
            rows = "".join(self.schema.row(record) for record in records)
            write_atomically(self.path, self.schema.header() + rows)
            self.order = keys

    def close(self):
        """Release the lock."""
        self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def scores_agree(record, mean_name, std_name, scores_name):
    """Raise ValueError if a record's mean and std are not those of its scores."""
    scores = record[scores_name]
    if not isinstance(scores, list) or not all(
        isinstance(score, (int, float)) and not isinstance(score, bool)
        for score in scores
    ):
        raise ValueError(f"{scores_name} must be a list of numbers, got {scores!r}")
    if not scores:
        raise ValueError(f"{scores_name} is empty")
    mean = math.fsum(scores) / len(scores)
    std = math.sqrt(math.fsum((score - mean) ** 2 for score in scores) / len(scores))
    for name, expected in ((mean_name, mean), (std_name, std)):
        value = record[name]
        if not (
            (math.isnan(value) and math.isnan(expected))
            or math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)
        ):
            raise ValueError(
                f"{name} {value!r} is not that of the {scores_name} {scores} "
                f"({expected!r})"
            )
