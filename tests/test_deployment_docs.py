"""README's deployment section is exact: the files it shows are deploy/'s (which CI's multihost stage
runs), every variable it sets is one the app reads, and every ``flask --app kdcs …`` command it gives
exists with the options it uses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOY = ROOT / "deploy"
SECTION = README[README.index("## Deployment on PostgreSQL"):README.index("## Command line")]


@pytest.mark.parametrize("name", sorted(p.name for p in DEPLOY.iterdir()))
def test_readme_shows_each_deploy_file_as_it_is(name):
    text = (DEPLOY / name).read_text(encoding="utf-8").rstrip("\n")
    assert f"\n{text}\n```" in SECTION, f"README's deployment section does not show deploy/{name} as it is"


def test_the_environment_file_sets_only_what_the_app_reads():
    names = [line.split("=", 1)[0] for line in (DEPLOY / "kdcs.env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert "KDCS_SECRET_KEY" in names and "KDCS_DATABASE_URL" in names
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "kdcs").rglob("*.py"))
    configuration = README[README.index("## Configuration"):README.index("## Security headers")]
    for name in names:
        assert f'"{name}"' in sources, f"{name}: no code reads it"
        assert f"`{name}`" in configuration, f"{name}: not in README's configuration table"


def _commands() -> list[list[str]]:
    """Every ``flask --app kdcs …`` command line in the section and in deploy/ (words after 'kdcs')."""
    texts = [SECTION] + [p.read_text(encoding="utf-8") for p in DEPLOY.iterdir()]
    found = []
    for text in texts:
        for match in re.finditer(r"flask --app kdcs ([^`#\n|]+)", text):
            found.append(shlex.split(match.group(1).strip()))
    return found


def test_every_flask_command_exists_with_its_options(app):
    commands = _commands()
    assert len(commands) >= 6, commands
    for words in commands:
        command, context = app.cli, click.Context(app.cli)
        rest = list(words)
        while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
            name = rest.pop(0)
            sub = command.get_command(context, name)
            assert sub is not None, f"flask --app kdcs {' '.join(words)}: no command {name!r}"
            command, context = sub, click.Context(sub, parent=context)
        assert not isinstance(command, click.Group), f"flask --app kdcs {' '.join(words)}: a group, not a command"
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in rest:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options, f"flask --app kdcs {' '.join(words)}: no option {word}"


def test_the_units_start_what_exists():
    web = (DEPLOY / "kdcs-web.service").read_text()
    worker = (DEPLOY / "kdcs-worker.service").read_text()
    assert re.search(r"^ExecStart=/srv/kdcs/app/\.venv/bin/gunicorn .* wsgi:app$", web, re.M)
    assert "WorkingDirectory=/srv/kdcs/app" in web and "EnvironmentFile=/etc/kdcs/kdcs.env" in web
    assert "app = create_app()" in (ROOT / "wsgi.py").read_text()
    assert re.search(r"^ExecStart=/srv/kdcs/app/\.venv/bin/flask --app kdcs worker\b", worker, re.M)
    assert "KillSignal=SIGINT" in worker  # Huey's graceful stop: a running import finishes
    assert "EnvironmentFile=/etc/kdcs/kdcs.env" in worker
