"""`netgen diff`: real git repositories, real builds at two revisions."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netgen.cli import main
from netgen.deploy.revisions import diff_revisions, markdown
from netgen.deploy.session import DeployError

REPO = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin",
                               "HOME": str(repo)}).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    r = tmp_path / "ops"
    shutil.copytree(REPO / "inventory", r / "inventory")
    git(r, "init", "-q", "-b", "main")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "intent")
    return r


def test_a_bandwidth_change_touches_exactly_both_ends_of_the_link(repo):
    f = repo / "inventory/sites/jiangxi/nanchang.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("{peer: jx-nc-pe1, bandwidth: 1G", "{peer: jx-nc-pe1, bandwidth: 10G"),
                 encoding="utf-8")
    git(repo, "commit", "-qam", "upgrade 南昌县 uplink")
    d = diff_revisions(repo / "inventory", "HEAD~1", "HEAD")
    assert [(x.name, x.status) for x in d.devices] == [("jx-nc-ncx-pe1", "changed"), ("jx-nc-pe1", "changed")]
    assert d.exit_code() == 2
    pe = next(x.diff for x in d.devices if x.name == "jx-nc-ncx-pe1")
    assert "- bandwidth 1000000" in pe and "+ bandwidth 10000000" in pe  # Comware: kbit/s
    md = markdown(d)
    assert "| `jx-nc-ncx-pe1` | changed |" in md and "```diff" in md
    # The working tree is the default head; unchanged since HEAD: no config changes.
    assert diff_revisions(repo / "inventory", "HEAD").exit_code() == 0


def test_the_repositorys_own_templates_are_rendered_at_each_revision(repo):
    shutil.copytree(REPO / "templates", repo / "templates")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "our templates")
    t = repo / "templates/frr/system.j2"
    t.write_text(t.read_text(encoding="utf-8").replace("log syslog informational", "log syslog notifications"),
                 encoding="utf-8")
    d = diff_revisions(repo / "inventory", "HEAD", platform="frr")  # head: the uncommitted template edit
    assert len(d.devices) == 18 and all("+log syslog notifications" in x.diff for x in d.devices)
    assert diff_revisions(repo / "inventory", "HEAD").devices == []  # VRP/Comware templates did not change


def test_cli_exit_codes_and_errors(repo, capsys):
    assert main(["diff", str(repo / "inventory"), "--base", "HEAD"]) == 0
    assert main(["diff", str(repo / "inventory"), "--base", "no-such-rev"]) == 1
    assert "error:" in capsys.readouterr().err
    f = repo / "inventory/sites/jiangxi/nanchang.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("peer: jx-pe1,", "peer: jx-pe9,"), encoding="utf-8")
    assert main(["diff", str(repo / "inventory"), "--base", "HEAD"]) == 1
    err = capsys.readouterr().err
    assert "does not build" in err and "jx-pe9" in err and "Traceback" not in err


def test_not_a_git_repository(tmp_path):
    shutil.copytree(REPO / "inventory", tmp_path / "inventory")
    with pytest.raises(DeployError, match="git"):
        diff_revisions(tmp_path / "inventory", "HEAD")
