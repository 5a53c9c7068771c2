"""The workspace storage: one behaviour from the folder backend and from its S3 twin.

The S3 backend talks real HTTP to moto's server, through the standard AWS chain (fake
credentials and ``AWS_ENDPOINT_URL_S3`` in the environment), as it would to S3 or MinIO.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tasks.errors import StorageError
from tasks.workspace.folder import FolderStorage
from tasks.workspace.s3 import S3Storage
from tasks.workspace.storage import Storage, open_storage
from tests.conftest import FAKE_SECRET, raw_s3_client

# --- The same behaviour on both backends ---------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",  # an empty file
        bytes(range(256)) * 64,  # binary, every byte value
        "地域福祉計画\n".encode(),  # UTF-8 text
    ],
    ids=["empty", "binary", "text"],
)
def test_it_reads_back_the_bytes_it_wrote(storage: Storage, data: bytes) -> None:
    """It returns exactly the bytes written to a key."""
    storage.write_bytes("curated/2021/consolidated.parquet", data)
    assert storage.read_bytes("curated/2021/consolidated.parquet") == data


def test_it_replaces_an_object_on_overwrite(storage: Storage) -> None:
    """It replaces the whole object when a key is written again, size included."""
    storage.write_bytes("ledger/2021.json", b"x" * 1000)
    storage.write_bytes("ledger/2021.json", b"short")
    assert storage.read_bytes("ledger/2021.json") == b"short"
    assert [(o.key, o.size) for o in storage.list("ledger")] == [("ledger/2021.json", 5)]


def test_it_tells_which_keys_hold_an_object(storage: Storage) -> None:
    """It says a key exists only when an object is stored at exactly that key."""
    storage.write_bytes("intake/2021/kenko-fukushi/a.xlsx", b"a")
    assert storage.exists("intake/2021/kenko-fukushi/a.xlsx")
    assert not storage.exists("intake/2021/kenko-fukushi/b.xlsx")
    assert not storage.exists("intake/2021/kenko-fukushi")  # a folder is not an object
    assert not storage.exists("intake/2021/kenko-fukushi/a")  # nor is a prefix of a key


def test_it_lists_every_object_under_a_prefix_sorted_with_relative_keys(
    storage: Storage,
) -> None:
    """It lists the objects under a prefix at any depth, sorted, keyed from the root."""
    written = {
        "intake/2021/shakyo/b.xlsx": b"bb",
        "intake/2021/kenko-fukushi/sub/c.xlsx": b"ccc",
        "intake/2021/kenko-fukushi/a.xlsx": b"a",
        "intake/20210/kenko-fukushi/x.xlsx": b"not under intake/2021",
        "outgoing/2021/kenko-fukushi/y.xlsx": b"elsewhere",
    }
    before = time.time()
    for key, data in written.items():
        storage.write_bytes(key, data)

    listed = storage.list("intake/2021")

    assert [(o.key, o.size) for o in listed] == [
        ("intake/2021/kenko-fukushi/a.xlsx", 1),
        ("intake/2021/kenko-fukushi/sub/c.xlsx", 3),
        ("intake/2021/shakyo/b.xlsx", 2),
    ]
    # S3 keeps whole seconds; the clocks are the same machine's.
    assert all(before - 2 <= o.mtime <= time.time() + 2 for o in listed)
    assert storage.list("intake/2021/") == listed
    assert [o.key for o in storage.list("")] == sorted(written)


def test_it_lists_nothing_under_a_prefix_without_objects(storage: Storage) -> None:
    """It returns an empty list for a prefix that holds nothing, not an error."""
    storage.write_bytes("intake/2021/kenko-fukushi/a.xlsx", b"a")
    assert storage.list("intake/2022") == []
    assert storage.list("intake/2021/kenko-fukushi/a.xlsx") == []  # a key is not a folder


def test_it_round_trips_japanese_keys(storage: Storage) -> None:
    """It stores, finds, lists and reads keys written in Japanese, unchanged."""
    key = "intake/2021/健康福祉課/【南区】調査票 令和３年度（確定版）.xlsx"
    storage.write_bytes(key, b"data")
    assert storage.exists(key)
    assert storage.read_bytes(key) == b"data"
    assert [o.key for o in storage.list("intake/2021/健康福祉課")] == [key]
    assert key.rsplit("/", 1)[-1] in storage.describe(key)


UNSAFE_KEYS = [
    "../outside.xlsx",  # the parent of the root
    "intake/../../outside.xlsx",  # climbs out through a folder
    "/etc/passwd",  # absolute
    "intake\\2021\\a.xlsx",  # Windows separators
    "intake/2021/a\x00.xlsx",  # NUL byte
]
OPERATIONS: dict[str, Callable[[Storage, str], object]] = {
    "read": lambda s, k: s.read_bytes(k),
    "write": lambda s, k: s.write_bytes(k, b"x"),
    "exists": lambda s, k: s.exists(k),
    "list": lambda s, k: s.list(k),
    "describe": lambda s, k: s.describe(k),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("key", UNSAFE_KEYS, ids=["parent", "climb", "absolute", "bslash", "nul"])
def test_it_rejects_unsafe_keys(storage: Storage, operation: str, key: str) -> None:
    """It refuses a key that could escape the root or mean another file, and writes nothing."""
    with pytest.raises(StorageError, match="unsafe storage key"):
        OPERATIONS[operation](storage, key)
    assert storage.list("") == []


def test_it_names_the_missing_key_when_reading_it(storage: Storage) -> None:
    """It raises StorageError naming where it looked when a key holds nothing."""
    with pytest.raises(StorageError) as raised:
        storage.read_bytes("ledger/2021.json")
    assert storage.describe("ledger/2021.json") in str(raised.value)
    assert raised.value.__cause__ is not None  # the library's error is kept, not swallowed


# --- The S3 backend's own rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("workspace", "bucket", "prefix"),
    [
        ("s3://shiryo-data/ws", "shiryo-data", "ws"),  # bucket and prefix
        ("s3://shiryo-data/city/niigata-minami/", "shiryo-data", "city/niigata-minami"),  # deep
        ("s3://shiryo-data", "shiryo-data", ""),  # the whole bucket
        ("s3://shiryo-data/", "shiryo-data", ""),  # the whole bucket, trailing slash
    ],
)
def test_open_storage_opens_s3_urls_on_s3(workspace: str, bucket: str, prefix: str) -> None:
    """It opens an s3:// workspace as S3Storage on its bucket and prefix, without a request."""
    storage = open_storage(workspace)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    "workspace",
    [
        "s3://",  # no bucket
        "s3:///ws",  # empty bucket name
        "s3://shiryo-data/../ws",  # a prefix that climbs
    ],
)
def test_open_storage_rejects_malformed_s3_urls(workspace: str) -> None:
    """It raises StorageError for an s3:// URL without a bucket or with an unsafe prefix."""
    with pytest.raises(StorageError):
        open_storage(workspace)


def test_open_storage_opens_other_locations_as_folders(tmp_path: Path) -> None:
    """It opens a path, given as text or as a Path, as a folder."""
    assert isinstance(open_storage(str(tmp_path)), FolderStorage)
    assert isinstance(open_storage(tmp_path), FolderStorage)
    assert isinstance(open_storage("workspace"), FolderStorage)


def test_it_keeps_its_objects_under_its_prefix(bucket: str, s3_env: str) -> None:
    """It writes under the workspace prefix and lists every object there, odd keys included."""
    raw = raw_s3_client(s3_env)
    storage = open_storage(f"s3://{bucket}/ws")
    storage.write_bytes("ledger/2021.json", b"{}")
    for key in (
        "ws2/ledger/2021.json",  # a sibling workspace
        "other/ledger/2021.json",  # another prefix
        "ws/intake/2021/kenko-fukushi/",  # a console "folder" marker
        "ws/intake/2021//a.xlsx",  # an empty path segment no key can name
    ):
        raw.put_object(Bucket=bucket, Key=key, Body=b"")

    stored = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket, Prefix="ws/")["Contents"]]
    assert "ws/ledger/2021.json" in stored
    # Listed as they are (nothing vanishes); the intake refuses the odd ones, visibly.
    assert [o.key for o in storage.list("")] == [
        "intake/2021//a.xlsx",
        "intake/2021/kenko-fukushi/",
        "ledger/2021.json",
    ]
    assert storage.describe("ledger/2021.json") == f"s3://{bucket}/ws/ledger/2021.json"


def test_it_pages_through_long_listings(bucket: str) -> None:
    """It follows ListObjectsV2 continuation pages to the last one."""
    storage = S3Storage(bucket, "ws", page_size=2)
    keys = [f"archive/2021/{n:03d}.xlsx" for n in (4, 0, 3, 1, 2)]
    for key in keys:
        storage.write_bytes(key, b"x")
    assert [o.key for o in storage.list("archive/2021")] == sorted(keys)


@pytest.fixture
def closed_endpoint(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the AWS chain at a local port that refuses connections (bound, not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        yield endpoint


@pytest.mark.parametrize("operation", ["read", "write", "exists", "list"])
def test_an_unreachable_server_raises_storage_error_quickly(
    closed_endpoint: str, operation: str
) -> None:
    """It gives up on a server that is down with StorageError naming the URL, not a hang."""
    storage = open_storage("s3://shiryo-data/ws")
    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        OPERATIONS[operation](storage, "ledger/2021.json")
    assert time.monotonic() - started < 10  # botocore's retries back off in milliseconds
    assert "s3://shiryo-data/ws" in str(raised.value)
    assert FAKE_SECRET not in str(raised.value)
