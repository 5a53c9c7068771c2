"""Exceptions raised by shiryo.

The hierarchy::

    ShiryoError
    ├── ConfigError        a plan or preset file is missing or malformed
    ├── StorageError       the workspace storage cannot be read or written
    │   ├── CredentialsError  no credentials for it (S3: no access key found)
    │   └── UnreadableObjectError  one listed object can never be read (odd key, a link)
    ├── WorkspaceError     the workspace or the year asked for does not exist
    ├── LockError          the year's collection lock cannot be held
    │   ├── LockBusyError  another collection run holds it
    │   └── LockLostError  another run took it over while this one ran
    ├── SubmissionError    a department's file cannot be read as a submission
    ├── RenderError        a template is broken or a document cannot be written
    ├── MailError          a reminder (督促) could not be handed to the mail server
    └── CollectionError    municipalities of a many-municipality collection failed

Library errors are translated at the boundary with ``raise ... from err`` so that callers
only ever catch these. Problems *inside* a submission that a department can fix are not
exceptions: they are findings, returned as data (see ``tasks.check.validate``).
"""

from __future__ import annotations


class ShiryoError(Exception):
    """Base class of every error shiryo raises on purpose."""


class ConfigError(ShiryoError):
    """A configuration file is missing, is not valid YAML, or breaks the plan's rules.

    Raised once, at load time, with the file, the key path and the problem in the message.
    """


class StorageError(ShiryoError):
    """The workspace storage (a folder or an S3 bucket) failed to read, list or write.

    Transient cases are retried by the Prefect task wrappers before this reaches a flow.
    """


class CredentialsError(StorageError):
    """No credentials for the storage were found (S3: no access key in the environment, no
    profile, no instance role). Not a fault that passes by itself: never retried.
    """


class WorkspaceError(ShiryoError):
    """The location given as the workspace holds no shiryo workspace, or no trace of the year.

    Raised by the coordinator's commands before anything is written, so that a mistyped
    ``-w`` or ``--year`` never becomes a new empty workspace or year (and a 資料 with every
    department 未提出). Only ``shiryo template``, ``shiryo demo`` and ``--new-workspace``
    create a workspace (``tasks.workspace.presence``).
    """


class UnreadableObjectError(StorageError):
    """One object the storage lists can never be read through it; retrying will not help.

    Its key names no safe place (``a//b``, ``./x``, ``../x``, a leading ``/``, a backslash, a
    NUL: ``tasks.workspace.storage.safe_key``), or on a folder it is a link or not a regular
    file (a FIFO would block a reader). ``kind`` says which: ``key``, ``link`` or ``special``.
    The intake records such a file as rejected, with the reason in Japanese.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class LockError(ShiryoError):
    """The collection lock of a workspace and year (``tasks.workspace.lock``) cannot be held."""


class LockBusyError(LockError):
    """Another collection run holds the year's lock and did not release it while this one waited.

    Raised before anything is taken, so the run ends having changed nothing; the message names
    the holder (host, process, expiry) and says to run again once it has finished.
    """


class LockLostError(LockError):
    """The lease expired or was taken over while this run held it (the run was frozen longer
    than the lease). Raised after the run's work, which the next run makes whole again.
    """


class SubmissionError(ShiryoError):
    """A submitted file cannot be opened as a submission workbook at all.

    ``message_ja`` is the Japanese text shown to the department; the reader turns this into a
    blocking finding for the file so that the rest of the batch goes on.
    """

    def __init__(self, message_ja: str, *, sheet: str | None = None, cell: str | None = None):
        super().__init__(message_ja)
        self.message_ja = message_ja
        self.sheet = sheet
        self.cell = cell


class RenderError(ShiryoError):
    """A Word or Excel template is broken or refers to data the context does not have."""


class MailError(ShiryoError):
    """A reminder mail (督促) could not be handed to the mail server: refused, unreachable,
    or a login that failed. The message names the server and the department; the other
    departments' mail still goes, and the 督促一覧 records which ones did not.
    """


class CollectionError(ShiryoError):
    """One or more municipalities of a many-municipality collection (``collect-municipalities``)
    failed: a broken plan, a storage fault, a busy lock. Raised after every municipality was
    tried, so that the flow run ends Failed; ``outcomes`` holds what became of each (the
    others were collected), the message names each failed one.
    """

    def __init__(self, message: str, outcomes: list[object]) -> None:
        super().__init__(message)
        self.outcomes = outcomes

    def __reduce__(self) -> tuple[type[CollectionError], tuple[str, list[object]]]:
        # Kept as a flow run's result: pickled with its outcomes, not only its message.
        return (type(self), (str(self), self.outcomes))
