"""`sympatherm export SESSION --out NAME`: a name that is neither an existing folder, nor ends
with /, nor has a file suffix is asked about in plain words, and nothing is written (it used to
write a file called "exports")."""

from __future__ import annotations

import pytest

from monitor.cli import main
from tests.support.sessions import record_simulated


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("out-session")
    return record_simulated(folder / "s.sympatherm", until_s=900.0)


def test_out_naming_no_folder_and_no_file_is_an_error_and_writes_nothing(session, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(session), "--format", "pdf", "--out", "exports"]) == 1
    err = capsys.readouterr().err
    assert "the folder exports does not exist: end it with / to create it" in err, err
    assert "give a file name such as exports.pdf" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == [], "no file called exports, no folder either"


@pytest.mark.parametrize("out, written", [("exports/", "exports/s.csv"), ("minutes.csv", "minutes.csv"),
                                         ("here", "here/s.csv")])
def test_a_folder_with_a_slash_a_file_name_or_an_existing_folder_still_export(session, tmp_path, monkeypatch,
                                                                              capsys, out, written):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here").mkdir()
    assert main(["export", str(session), "--format", "csv", "--out", out]) == 0, capsys.readouterr().err
    assert (tmp_path / written).is_file()
