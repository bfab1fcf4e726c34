import itertools
import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from assistant.cli import build_parser, main
from assistant.config import ENV_HELP, Settings
from assistant.errors import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = [[], ["ingest"], ["ask"], ["serve"], ["evaluate"], ["feedback"], ["feedback", "export"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "assistant")
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: assistant" in out and len(out) > 150


def test_every_subcommand_has_a_help_line():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {c.dest for c in sub._choices_actions} == {"ingest", "ask", "sources", "serve", "evaluate", "feedback"}
    assert all(c.help for c in sub._choices_actions)


def test_readme_documents_every_setting():
    readme = README.read_text()
    for f in fields(Settings):
        assert f"`ASSISTANT_{f.name.upper()}`" in readme, f.name
        assert f.name in ENV_HELP
        default = getattr(Settings, f.name)
        if f.name not in ("corpus_dir", "data_dir") and default != "":  # both paths depend on the checkout
            assert f"| `ASSISTANT_{f.name.upper()}` | `{default}` |" in readme, f"README default of {f.name}"


def test_bad_setting_is_a_clear_error():
    with pytest.raises(ConfigError, match="ASSISTANT_PORT"):
        Settings.from_env({"ASSISTANT_PORT": "seventy"})
    with pytest.raises(ConfigError, match="hybrid, dense, bm25"):
        Settings.from_env({"ASSISTANT_RETRIEVAL": "magic"})
    assert Settings.from_env({"ASSISTANT_TOP_K": "5", "ASSISTANT_DEBUG": "yes"}).top_k == 5


def run(args, env_extra, tmp_path):
    import os
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), **env_extra}
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=600)


def test_ask_json_and_readable_errors(tmp_path, seed_example_caches):
    from test_ingestion import write_corpus

    write_corpus(tmp_path / "corpus")
    seed_example_caches(tmp_path / "data")
    env = {"ASSISTANT_CORPUS_DIR": str(tmp_path / "corpus")}
    done = run(["ask", "When did Sweden ban corporal punishment?", "--json"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["quotes"], payload
    quote = payload["quotes"][0]
    source = (tmp_path / "corpus" / quote["doc_id"]).read_text()
    assert quote["text"] in source and "1979" in quote["text"]
    assert {"doc_id", "start", "end", "score", "citation"} <= set(quote)

    empty = run(["ask", "   "], env, tmp_path)
    assert empty.returncode == 2 and "error: The message is empty" in empty.stderr and "Traceback" not in empty.stderr
    bad = run(["ask", "x"], {**env, "ASSISTANT_CHROMA_URL": "http://127.0.0.1:9"}, tmp_path)
    assert bad.returncode == 2 and "chroma run" in bad.stderr and "Traceback" not in bad.stderr
    assert re.search(r"error: .*ASSISTANT_PORT", run(["ask", "x"], {"ASSISTANT_PORT": "x"}, tmp_path).stderr)


@pytest.mark.parametrize("target, says", [("folder", "is a folder; give a file name"),
                                          ("missing/dir/x.csv", None), ("file-as-dir/x.csv", "cannot use")])
def test_feedback_export_to_an_unusable_path_is_one_readable_line(tmp_path, monkeypatch, capsys, target, says):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "folder").mkdir()
    (tmp_path / "file-as-dir").write_text("not a folder")
    code = main(["feedback", "export", "--out", str(tmp_path / target)])
    err = capsys.readouterr().err
    if says is None:  # a missing folder is created
        assert code == 0 and (tmp_path / target).is_file()
    else:
        assert code == 2 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _long_options(parser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}


def _subparsers(parser):
    return next((a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"), None)


def test_readme_command_list_matches_the_parser():
    block = README.read_text().split("## Command line", 1)[1].split("```")[1]
    lines = {}
    for line in block.splitlines():
        if line.startswith("assistant"):
            words = line.split()[1:]
            path = tuple(itertools.takewhile(lambda w: re.fullmatch(r"[a-z]+", w), words))
            lines[path] = line
    parser = build_parser()
    assert "[-v]" in lines[()], "the README shows `assistant` alone and its -v"
    documented = set()
    for name, sub in _subparsers(parser).choices.items():
        nested = _subparsers(sub)
        for path, command in ([((name, n), c) for n, c in nested.choices.items()] if nested else [((name,), sub)]):
            assert path in lines, f"README's command list lacks `assistant {' '.join(path)}`"
            documented.add(path)
            missing = [o for o in _long_options(command) if o not in lines[path]]
            assert not missing, f"`assistant {' '.join(path)}` in the README lacks {missing}"
    assert set(lines) - {()} == documented, "the README lists a command the parser does not have"


def test_assistant_alone_prints_the_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: assistant" in out and "ASSISTANT_DATA_DIR" in out and "ingest" in out


def test_default_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    project = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == project / "data" and settings.corpus_dir == project / "corpus"
    given = Settings.from_env({"ASSISTANT_DATA_DIR": "here/index"})
    assert given.data_dir == tmp_path / "here" / "index", "a relative path in a variable is the shell's"
