"""A listing leaves nothing out: every object a folder or a bucket holds is listed as it is.

What no safe key can name (``a//b``, ``a/./b``, ``a/../b``, a NUL, a backslash; on a folder, a
link or a FIFO) is listed too, and reading it raises UnreadableObjectError, so that the intake
can refuse it visibly instead of never seeing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.errors import UnreadableObjectError
from tasks.workspace.storage import open_storage, own_objects, resolved_parts, safe_key
from tests.conftest import raw_s3_client

ODD_S3_KEYS = [
    # an empty segment, a dot segment, a climbing segment
    "ws/intake/2021/kenko-fukushi//a.xlsx",
    "ws/intake/2021/kenko-fukushi/./b.xlsx",
    "ws/intake/2021/kenko-fukushi/../kenko-fukushi/c.xlsx",
    # a NUL and a backslash in the name
    "ws/intake/2021/kenko-fukushi/d\x00.xlsx",
    "ws/intake/2021/kenko-fukushi/e\\f.xlsx",
    # a name that is only a dot segment, and a key ending in a slash that holds bytes
    "ws/intake/2021/kenko-fukushi/..",
    "ws/intake/2021/kenko-fukushi/g/",
    # the intake folder spelled oddly above the year: a leading slash in the workspace
    "ws//intake/2021/kenko-fukushi/h.xlsx",
    "ws/intake/./2021/kenko-fukushi/i.xlsx",
    "ws/./intake//2021/kenko-fukushi/j.xlsx",
]


def test_every_key_s3_holds_is_listed_and_refused_when_read(bucket: str, s3_env: str) -> None:
    """It lists odd keys under the prefix and odd spellings of it; reading each one refuses."""
    raw = raw_s3_client(s3_env)
    for key in [*ODD_S3_KEYS, "ws/intake/2021/kenko-fukushi/ok.xlsx", "ws/intake/2022/x.xlsx"]:
        raw.put_object(Bucket=bucket, Key=key, Body=b"bytes")
    raw.put_object(Bucket=bucket, Key="/ws/intake/2021/outside.xlsx", Body=b"x")  # another root
    storage = open_storage(f"s3://{bucket}/ws")

    listed = {o.key: o for o in storage.list("intake/2021")}
    expected = {k.removeprefix("ws/") for k in ODD_S3_KEYS} | {"intake/2021/kenko-fukushi/ok.xlsx"}
    assert set(listed) == expected
    assert all(o.size == 5 for o in listed.values())
    for key in expected - {"intake/2021/kenko-fukushi/ok.xlsx"}:
        with pytest.raises(UnreadableObjectError) as refused:
            storage.read_bytes(key)
        assert refused.value.kind == "key"
    assert storage.read_bytes("intake/2021/kenko-fukushi/ok.xlsx") == b"bytes"
    # shiryo's own folders take only what shiryo could have written
    assert [o.key for o in own_objects(list(listed.values()))] == [
        "intake/2021/kenko-fukushi/ok.xlsx"
    ]


def test_a_bucket_root_workspace_lists_keys_with_a_leading_slash(bucket: str, s3_env: str) -> None:
    """It lists ``/intake/…`` in a workspace at the bucket's root: a leading slash, not lost."""
    raw = raw_s3_client(s3_env)
    raw.put_object(Bucket=bucket, Key="/intake/2021/npo/x.xlsx", Body=b"x")
    raw.put_object(Bucket=bucket, Key="intake/2021/npo/y.xlsx", Body=b"y")
    keys = [o.key for o in open_storage(f"s3://{bucket}").list("intake/2021")]
    assert keys == ["/intake/2021/npo/x.xlsx", "intake/2021/npo/y.xlsx"]


def test_links_and_fifos_in_a_folder_are_listed_and_never_read(
    workspace: Path, tmp_path: Path
) -> None:
    """It lists a link to a file, a link to a folder and a FIFO, and refuses to read them."""
    folder = workspace / "intake/2021/shakyo"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.xlsx").write_bytes(b"password")
    (folder / "link.xlsx").symlink_to(secret / "passwd.xlsx")
    (folder / "linked-folder").symlink_to(secret)
    os.mkfifo(folder / "fifo.xlsx")
    (folder / "back\\slash.xlsx").write_bytes(b"x")
    storage = open_storage(workspace)

    listed = {o.key for o in storage.list("intake/2021")}
    assert listed == {
        "intake/2021/shakyo/link.xlsx",
        "intake/2021/shakyo/linked-folder",
        "intake/2021/shakyo/fifo.xlsx",
        "intake/2021/shakyo/back\\slash.xlsx",
    }  # nothing under the linked folder: it is one object, never followed
    kinds = {}
    for key in sorted(listed):
        with pytest.raises(UnreadableObjectError) as refused:
            storage.read_bytes(key)  # a FIFO would block here for ever if it were opened
        kinds[key.rsplit("/", 1)[-1]] = refused.value.kind
    assert kinds == {
        "back\\slash.xlsx": "key",
        "fifo.xlsx": "special",
        "link.xlsx": "link",
        "linked-folder": "link",
    }


@pytest.mark.parametrize(
    "key",
    [
        # every way a key can name another place than it says
        "a//b",
        "a/./b",
        "a/../b",
        "/a",
        "a/",
        ".",
        "..",
        "a\\b",
        "a\x00b",
        "",
    ],
)
def test_a_safe_key_is_its_own_canonical_form(key: str) -> None:
    """It refuses any key that is not the one canonical spelling of a relative path."""
    with pytest.raises(UnreadableObjectError):
        safe_key(key)


def test_resolved_parts_follow_the_path_a_key_spells() -> None:
    """It drops empty and dot segments and goes up for ``..``."""
    assert resolved_parts("intake/2021/a//../a/./x.xlsx") == ["intake", "2021", "a", "x.xlsx"]
    assert resolved_parts("/intake/2021/a/x.xlsx/") == ["intake", "2021", "a", "x.xlsx"]
    assert resolved_parts("../../x") == ["x"]
