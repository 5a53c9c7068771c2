"""Files and folders shiryo writes honour the umask: colleagues on the share can read them.

Each case runs in a child process started with a real umask (022, the usual; 027, a group
share), as a coordinator's shell or a service manager would start shiryo.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import clean_env

UMASKS = [0o022, 0o027]

_WRITE_EVERY_WAY = """
import json, sys
from pathlib import Path
from tasks.workspace.folder import FolderStorage

root = Path(sys.argv[1])
storage = FolderStorage(root)
storage.write_bytes("reports/2021/資料.docx", b"written")  # new folders on the way
storage.write_bytes("reports/2021/資料.docx", b"rewritten")  # replaced by rename
assert storage.create_exclusive("locks/collect-2021.json", b"lease")  # linked into place
version = storage.read_versioned("locks/collect-2021.json")[1]
assert storage.replace_if("locks/collect-2021.json", b"renewed", version)
print(json.dumps({p.relative_to(root).as_posix(): p.stat().st_mode for p in root.rglob("*")}))
"""


def _modes(paths: dict[str, int]) -> dict[str, str]:
    """Return each path's permission bits in octal, folders marked with a trailing slash."""
    return {
        (f"{path}/" if stat.S_ISDIR(mode) else path): oct(stat.S_IMODE(mode))
        for path, mode in paths.items()
    }


def _expected(paths: dict[str, int], umask: int) -> dict[str, str]:
    return {
        (f"{path}/" if stat.S_ISDIR(mode) else path): oct(
            (0o777 if stat.S_ISDIR(mode) else 0o666) & ~umask
        )
        for path, mode in paths.items()
    }


@pytest.mark.parametrize("umask", UMASKS, ids=oct)
def test_every_kind_of_write_honours_the_umask(tmp_path: Path, umask: int) -> None:
    """It creates files 0666 and folders 0777 less the umask, by write, rename and link."""
    root = tmp_path / "workspace"
    root.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", _WRITE_EVERY_WAY, str(root)],
        env=clean_env({}),
        umask=umask,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    paths: dict[str, int] = json.loads(child.stdout)
    assert {"reports/2021/資料.docx", "locks/collect-2021.json", "reports/2021"} <= set(paths)
    assert _modes(paths) == _expected(paths, umask)


def test_a_whole_demo_cycle_writes_readable_files(tmp_path: Path) -> None:
    """It leaves every file of a demo run (資料, 差戻し票, ledger, Data Docs, results) 0640
    and every folder 0750 under umask 027: the group reads them, others do not."""
    umask = 0o027
    workspace = tmp_path / "demo"
    shiryo = str(Path(sys.executable).with_name("shiryo"))
    child = subprocess.run(
        [shiryo, "demo", "-w", str(workspace)],
        env=clean_env({"PREFECT_HOME": str(tmp_path / "prefect-home")}),
        umask=umask,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stdout + child.stderr
    paths = {p.relative_to(workspace).as_posix(): p.stat().st_mode for p in workspace.rglob("*")}
    written = {path.split("/")[0] for path in paths}
    assert {"reports", "feedback", "ledger", "archive", "datadocs", "_prefect"} <= written
    assert _modes(paths) == _expected(paths, umask)
