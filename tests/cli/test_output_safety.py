"""Never lose a file: every writing command refuses an existing path that is not an
unchanged earlier gutaxis output, replaces one only with --force, never writes over the
current or home folder, leaves no staging files on failure and follows the umask."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.output import MARKER, output_file, output_folder
from gutaxis.errors import GutaxisError

runner = CliRunner()

NRS = "subject_id,administered_at,pain\np1,2024-03-01T08:00:00+00:00,3\n"


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 (folders: "dir") of everything under ``folder``."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        found[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def one_line_refusal(result, *patterns: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output and "gutaxis-tmp" not in text, text
    for pattern in patterns:
        assert pattern in text, text


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.csv"
    path.write_text(NRS, encoding="utf-8")
    return path


def file_commands(answers: Path) -> dict[str, list[str]]:
    """Every file-writing command, with arguments that succeed (``--out`` follows)."""
    return {"score": ["score", "nrs", str(answers)],
            "import-responses": ["import-responses", str(answers), "--instrument", "nrs"]}


@pytest.fixture
def example_output(tmp_path: Path) -> Path:
    out = tmp_path / "results"
    result = invoke("metrics", "--example", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("command", ["score", "import-responses"])
def test_an_existing_file_not_written_by_gutaxis_is_kept(tmp_path: Path, answers: Path,
                                                         command: str) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    before = snapshot(tmp_path)
    for extra in ([], ["--force"]):
        result = invoke(*file_commands(answers)[command], "--out", notes, *extra)
        one_line_refusal(result, "notes.txt", "was not written by gutaxis")
        assert snapshot(tmp_path) == before


def test_metrics_out_naming_a_file_keeps_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = invoke("metrics", "--example", "--out", notes, "--force")
    one_line_refusal(result, "notes.txt", "exists and is a file")
    assert snapshot(tmp_path) == {"notes.txt": hashlib.sha256(b"my notes\n").hexdigest()}


@pytest.mark.parametrize("force", [False, True])
def test_other_files_in_an_existing_folder_are_kept(tmp_path: Path, force: bool) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    before = snapshot(tmp_path)
    result = invoke("metrics", "--example", "--out", folder, *(["--force"] if force else []))
    one_line_refusal(result, "p: exists and was not written by gutaxis")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("spelling", [".", "sub/..", "..", "link"])
def test_the_current_folder_and_its_parents_are_refused(tmp_path: Path, spelling: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = tmp_path / "work"
    (cwd / "sub").mkdir(parents=True)
    (cwd / "link").symlink_to(cwd)
    (cwd / "data.txt").write_text("x")
    (cwd / MARKER).write_text('{"files": {}}')  # even a marker does not make it replaceable
    monkeypatch.chdir(cwd)
    before = snapshot(tmp_path)
    result = invoke("metrics", "--example", "--out", spelling, "--force")
    one_line_refusal(result, "gutaxis never writes its output over")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("spelling", ["~", "~/."])
def test_the_home_folder_is_refused(tmp_path: Path, spelling: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = invoke("metrics", "--example", "--out", spelling, "--force")
    one_line_refusal(result, "the home folder", str(home))
    assert snapshot(tmp_path) == before


def test_force_replaces_an_unchanged_gutaxis_folder_output(example_output: Path) -> None:
    again = invoke("metrics", "--example", "--out", example_output)
    one_line_refusal(again, "holds an earlier gutaxis output", "--force")
    (example_output / "alpha.tsv").write_text("stale")  # an edit makes it not replaceable
    refused = invoke("metrics", "--example", "--out", example_output, "--force")
    one_line_refusal(refused, "was changed since gutaxis wrote it (alpha.tsv)")
    assert (example_output / "alpha.tsv").read_text() == "stale"
    (example_output / "alpha.tsv").unlink()
    result = invoke("metrics", "--example", "--out", example_output, "--force")
    assert result.exit_code == 0, result.output
    assert (example_output / "alpha.tsv").read_text().startswith("sample_id\t")
    assert [p.name for p in example_output.parent.iterdir()] == [example_output.name]


def test_force_refuses_a_gutaxis_folder_holding_a_persons_file(example_output: Path) -> None:
    (example_output / "beta" / "my_notes.txt").write_text("keep me")
    before = snapshot(example_output)
    result = invoke("metrics", "--example", "--out", example_output, "--force")
    one_line_refusal(result, "holds files gutaxis did not write (beta/my_notes.txt)")
    assert snapshot(example_output) == before


@pytest.mark.parametrize("command", ["score", "import-responses"])
def test_force_replaces_an_unchanged_gutaxis_file_output(tmp_path: Path, answers: Path,
                                                         command: str) -> None:
    args = file_commands(answers)[command]
    out = tmp_path / "out.tsv"
    assert invoke(*args, "--out", out).exit_code == 0
    written = out.read_bytes()
    one_line_refusal(invoke(*args, "--out", out), "holds an earlier gutaxis output")
    result = invoke(*args, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == written
    out.write_bytes(written + b"my edit\n")
    one_line_refusal(invoke(*args, "--out", out, "--force"), "changed since gutaxis wrote it")
    assert out.read_bytes() == written + b"my edit\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.tsv{MARKER}", "answers.csv",
                                                          "out.tsv"]


def test_a_failed_run_leaves_the_earlier_output_and_no_staging(example_output: Path) -> None:
    before = snapshot(example_output.parent)
    bad = example_output.parent / "table.xyz"
    bad.write_bytes(b"\x00junk")
    result = invoke("metrics", bad, "--out", example_output, "--force")
    bad.unlink()
    one_line_refusal(result, "table.xyz")
    assert snapshot(example_output.parent) == before


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_an_interrupted_write_leaves_the_earlier_output_and_no_staging(
        example_output: Path, error: type[BaseException]) -> None:
    before = snapshot(example_output.parent)
    with pytest.raises(error), output_folder(example_output, force=True) as staged:
        (staged / "alpha.tsv").write_text("half")
        raise error
    assert snapshot(example_output.parent) == before


def test_a_failed_swap_puts_the_earlier_output_back(example_output: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(example_output.parent)
    real_rename = os.rename
    calls: list[str] = []

    def rename_failing_second(src: str, dst: str) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(src))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_failing_second)
    with pytest.raises(GutaxisError, match="results: could not write"), \
            output_folder(example_output, force=True) as staged:
        (staged / "alpha.tsv").write_text("new")
    monkeypatch.undo()
    assert snapshot(example_output.parent) == before


def test_score_out_naming_a_folder_leaves_no_part_file(tmp_path: Path, answers: Path) -> None:
    folder = tmp_path / "DIR"
    folder.mkdir()
    before = snapshot(tmp_path)
    one_line_refusal(invoke("score", "nrs", answers, "--out", folder), "DIR", "is a folder")
    assert snapshot(tmp_path) == before


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_outputs_follow_the_umask(tmp_path: Path, answers: Path) -> None:
    out = tmp_path / "nested" / "results"
    assert invoke("metrics", "--example", "--out", out).exit_code == 0
    assert (out.stat().st_mode & 0o777, (out / "beta").stat().st_mode & 0o777) == (0o750, 0o750)
    assert (out / "alpha.tsv").stat().st_mode & 0o777 == 0o640
    assert (out / "beta" / "jaccard.tsv").stat().st_mode & 0o777 == 0o640
    scores = tmp_path / "scores.tsv"
    assert invoke("score", "nrs", answers, "--out", scores).exit_code == 0
    assert scores.stat().st_mode & 0o777 == 0o640


def test_a_write_error_names_the_users_path(tmp_path: Path) -> None:
    out = tmp_path / "results"
    with pytest.raises(GutaxisError) as caught, output_folder(out, force=False) as staged:
        (staged / "beta" / "x.tsv").write_text("no beta folder was made")
    assert str(caught.value).startswith(f"{out / 'beta' / 'x.tsv'}: could not write")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_out_path_names_the_users_path(tmp_path: Path, answers: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder should be")
    out = blocker / "scores.tsv"
    result = invoke("score", "nrs", answers, "--out", out)
    one_line_refusal(result, f"{out}: could not write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "notes.txt"]


def test_a_symlinked_output_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.tsv"
    with output_file(real, force=False) as staged:
        staged.write_text("one\n")
    link = tmp_path / "link.tsv"
    link.symlink_to(real)
    with output_file(link, force=True) as staged:
        staged.write_text("two\n")
    assert link.is_symlink() and real.read_text() == "two\n"



@pytest.fixture
def every_writer(tmp_path: Path, answers: Path, reference_dir: Path) -> dict[str, list[str]]:
    """Arguments (before --out) that succeed, for every command that writes a file/folder."""
    record = tmp_path / "record.tsv"
    assert invoke("import-responses", answers, "--instrument", "nrs", "--out", record
                  ).exit_code == 0
    bundle = tmp_path / "bundle.json"
    assert invoke("export-fhir", record, "--out", bundle).exit_code == 0
    table = tmp_path / "table.tsv"
    table.write_text("feature_id\ts1\ts2\ts3\ts4\nf1\t1\t5\t2\t8\nf2\t4\t2\t6\t1\n")
    meta = tmp_path / "meta.tsv"
    meta.write_text("sample_id\tage\ns1\t30\ns2\t41\ns3\t52\ns4\t63\n")
    redcap = reference_dir / "redcap"
    return {
        "metrics": ["metrics", "--example"],
        "associate": ["associate", str(table), "--metadata", str(meta), "--fixed", "age",
                      "--no-plots"],
        "score": ["score", "nrs", str(answers)],
        "import-responses": ["import-responses", str(answers), "--instrument", "nrs"],
        "import-redcap": ["import-redcap", str(redcap / "pain_clinic_export.csv"), "--mapping",
                          str(redcap / "pain_clinic_mapping.json"), "--timezone",
                          "Europe/Berlin"],
        "export-fhir": ["export-fhir", str(record)],
        "import-fhir": ["import-fhir", str(bundle)],
    }


@pytest.mark.parametrize("command", ["metrics", "associate", "score", "import-responses",
                                     "import-redcap", "export-fhir", "import-fhir"])
def test_every_writing_command_refuses_to_replace_without_force(
        every_writer: dict[str, list[str]], tmp_path: Path, command: str) -> None:
    out = tmp_path / "made-by-gutaxis"
    args = every_writer[command]
    first = invoke(*args, "--out", out)
    assert first.exit_code == 0, first.output
    before = snapshot(tmp_path)
    one_line_refusal(invoke(*args, "--out", out), "holds an earlier gutaxis output", "--force")
    assert snapshot(tmp_path) == before
    again = invoke(*args, "--out", out, "--force")
    assert again.exit_code == 0, again.output
    assert snapshot(tmp_path).keys() == before.keys()


def test_a_writers_input_error_names_the_users_path(tmp_path: Path) -> None:
    from gutaxis.errors import InputError

    out = tmp_path / "scores.tsv"
    with pytest.raises(InputError) as caught, output_file(out, force=False) as staged:
        raise InputError("cannot write this value", source=str(staged), row=3)
    assert str(caught.value).startswith(f"{out}, row 3: cannot write this value")
    assert list(tmp_path.iterdir()) == []
