"""Git jobs against local bare repositories: clone, pull, commit, push, and "no changes"."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

WRITE = ["sh", "-c", 'printf %s "$JOBDECK_PARAM_CONTENT" > config.txt']
CONTENT = [{"name": "content", "type": "string", "default": "v1"}]


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git (with an identity, as a colleague's machine would have)."""
    env_args = ["-c", "user.name=colleague", "-c", "user.email=colleague@example.com"]
    done = subprocess.run(
        ["git", *env_args, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """An empty bare repository whose default branch is main."""
    path = tmp_path / "remote.git"
    git("init", "--bare", "--initial-branch=main", str(path))
    return path


def commits(bare: Path) -> list[str]:
    """The commit shas on the bare repository's main branch, newest first."""
    return git("--git-dir", str(bare), "log", "--format=%H", "main").splitlines()


async def test_clone_commit_push_then_pull_then_no_changes(
    deck: Any, bare: Path, tmp_path: Path
) -> None:
    template = deck.template(
        "git",
        {"repository": str(bare), "command": WRITE, "commit_message": "backup"},
        parameters=CONTENT,
        name="router-configs",
    )
    executor = await deck.started()

    # 1. First run: the remote is empty; clone, write, commit, push.
    first = deck.run(template, {"content": "v1"})
    executor.wake()
    await executor.wait_idle()
    run = deck.get(first)
    assert run.status == "completed", deck.log(first)
    checkout = tmp_path / "home" / "git" / "router-configs"
    assert run.result["status"] == "committed"
    assert run.result["pushed"] is True
    assert run.result["changed_files"] == ["config.txt"]
    assert run.result["workdir"] == str(checkout)
    assert commits(bare) == [run.result["commit"]]
    assert git("--git-dir", str(bare), "log", "-1", "--format=%an <%ae> %s") == (
        "jobdeck <jobdeck@localhost> backup"
    )

    # 2. A colleague pushes meanwhile; the next run pulls that, then commits its own change.
    colleague = tmp_path / "colleague"
    git("clone", str(bare), str(colleague))
    (colleague / "README").write_text("hello\n")
    git("add", "README", cwd=colleague)
    git("commit", "-m", "readme", cwd=colleague)
    git("push", "origin", "main", cwd=colleague)
    second = deck.run(template, {"content": "v2"})
    executor.wake()
    await executor.wait_idle()
    run = deck.get(second)
    assert run.status == "completed", deck.log(second)
    assert (checkout / "README").read_text() == "hello\n"
    assert (checkout / "config.txt").read_text() == "v2"
    assert run.result["status"] == "committed"
    history = commits(bare)
    assert len(history) == 3
    assert history[0] == run.result["commit"]

    # 3. Same content again: nothing to commit, nothing pushed.
    third = deck.run(template, {"content": "v2"})
    executor.wake()
    await executor.wait_idle()
    run = deck.get(third)
    assert run.status == "completed"
    assert run.result["status"] == "no changes"
    assert run.result["commit"] is None
    assert run.result["pushed"] is False
    assert commits(bare) == history
    assert "no changes" in deck.log(third, "stdout")


async def test_push_false_commits_locally_only(deck: Any, bare: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "checkout"
    template = deck.template(
        "git",
        {"repository": str(bare), "command": WRITE, "push": False, "workdir": str(workdir)},
        parameters=CONTENT,
    )
    run_id = deck.run(template)
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "completed", deck.log(run_id)
    assert run.result["status"] == "committed"
    assert run.result["pushed"] is False
    assert git("rev-parse", "HEAD", cwd=workdir) == run.result["commit"]
    assert git("--git-dir", str(bare), "branch", "--list") == ""


async def test_a_failing_command_commits_nothing(deck: Any, bare: Path) -> None:
    template = deck.template(
        "git", {"repository": str(bare), "command": ["sh", "-c", "touch junk; exit 5"]}
    )
    run_id = deck.run(template)
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message == "command exited with status 5; nothing committed"
    assert git("--git-dir", str(bare), "branch", "--list") == ""


async def test_an_unreachable_repository_fails_without_leaking_credentials(deck: Any) -> None:
    template = deck.template("git", {"repository": "http://user:topsecret@127.0.0.1:9/nothing.git"})
    run_id = deck.run(template)
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert "topsecret" not in (run.error_message or "")
    assert "topsecret" not in deck.log(run_id)
