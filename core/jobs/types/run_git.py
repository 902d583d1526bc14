"""Runner of the `git` job type: clone or pull, run a command, commit and push what changed."""

from __future__ import annotations

import fcntl
import re
import subprocess
from pathlib import Path
from typing import Any

import git

from core.jobs.types.context import JobContext, JobFailed
from core.jobs.types.git import GitConfig

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_USERINFO = re.compile(r"(?<=://)[^/@]+@")
#: The result lists at most this many changed files.
MAX_FILES_LISTED = 100


def redact(url: str) -> str:
    """A repository URL without credentials, for messages and the log."""
    return _USERINFO.sub("***@", url)


def checkout_dir(context: JobContext, config: GitConfig) -> Path:
    """The checkout: ``workdir``, else ``$JOBDECK_HOME/git/<template or run name>``."""
    if config.workdir:
        return Path(config.workdir).expanduser()
    name = _UNSAFE_NAME.sub("_", context.template_name or context.job_name).strip("._")
    return context.home / "git" / (name or f"run-{context.run_id}")


def _has_ref(repo: git.Repo, ref: str) -> bool:
    try:
        repo.git.rev_parse("--verify", "--quiet", ref)
    except git.GitCommandError:
        return False
    return True


def _update(repo: git.Repo, branch: str) -> None:
    """Bring the local branch up to the remote one, keeping unpushed local commits on top."""
    remote_ref = f"refs/remotes/origin/{branch}"
    if _has_ref(repo, f"refs/heads/{branch}"):
        repo.git.checkout(branch)
        if _has_ref(repo, remote_ref):
            try:
                repo.git.merge("--ff-only", remote_ref)
            except git.GitCommandError:
                try:
                    repo.git.rebase(remote_ref)
                except git.GitCommandError as exc:
                    repo.git.rebase("--abort")
                    raise JobFailed(f"local commits conflict with origin/{branch}: {exc}") from None
    elif _has_ref(repo, remote_ref):
        repo.git.checkout("-b", branch, "--track", remote_ref)
    elif repo.head.is_valid():
        repo.git.checkout("-b", branch)
    else:
        # An empty remote: the first commit will create the branch.
        repo.git.symbolic_ref("HEAD", f"refs/heads/{branch}")


def _open(config: GitConfig, workdir: Path) -> git.Repo:
    if (workdir / ".git").is_dir():
        repo = git.Repo(workdir)
        origin = repo.remote("origin")
        if origin.url != config.repository:
            origin.set_url(config.repository)
        print(f"fetching {redact(config.repository)}", flush=True)
        repo.git.fetch("--prune", "origin")
        return repo
    if workdir.exists() and any(workdir.iterdir()):
        raise JobFailed(f"{workdir} exists, is not empty and is not a git checkout")
    print(f"cloning {redact(config.repository)} into {workdir}", flush=True)
    return git.Repo.clone_from(config.repository, workdir)


def _sync(context: JobContext, config: GitConfig, workdir: Path) -> dict[str, Any]:
    identity = {
        "GIT_AUTHOR_NAME": config.author_name,
        "GIT_AUTHOR_EMAIL": config.author_email,
        "GIT_COMMITTER_NAME": config.author_name,
        "GIT_COMMITTER_EMAIL": config.author_email,
    }
    repo = _open(config, workdir)
    _update(repo, config.branch)
    if config.command:
        print(f"running {config.command[0]} in {workdir}", flush=True)
        completed = subprocess.run(config.command, cwd=workdir, check=False)
        if completed.returncode != 0:
            raise JobFailed(f"command exited with status {completed.returncode}; nothing committed")
    repo.git.add("-A")
    changed = [name for name in repo.git.diff("--cached", "--name-only").splitlines() if name]
    commit = None
    if changed:
        repo.git.commit("-m", config.commit_message, env=identity)
        commit = repo.head.commit.hexsha
        print(f"committed {commit[:12]}: {len(changed)} file(s) changed", flush=True)
    else:
        print("no changes", flush=True)
    remote_ref = f"refs/remotes/origin/{config.branch}"
    unpushed = repo.head.is_valid() and (
        not _has_ref(repo, remote_ref)
        or bool(repo.git.rev_list(f"{remote_ref}..HEAD", "--max-count=1"))
    )
    pushed = False
    if config.push and unpushed:
        repo.git.push("--set-upstream", "origin", f"HEAD:refs/heads/{config.branch}")
        pushed = True
        print(f"pushed {config.branch} to {redact(config.repository)}", flush=True)
    return {
        "status": "committed" if commit else "no changes",
        "commit": commit,
        "head": repo.head.commit.hexsha if repo.head.is_valid() else None,
        "pushed": pushed,
        "changed_files": changed[:MAX_FILES_LISTED],
        "changed_count": len(changed),
        "workdir": str(workdir),
    }


def run(context: JobContext) -> dict[str, Any]:
    """Clone or pull, optionally run the command, commit what changed, push if asked."""
    config = context.config
    assert isinstance(config, GitConfig)
    workdir = checkout_dir(context, config)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    # Two runs sharing one checkout would trample each other's index: take turns.
    with open(workdir.parent / f".{workdir.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another run using {workdir}", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _sync(context, config, workdir)
        except git.GitCommandError as exc:
            argv: Any = exc.command  # a list, or a string when GitPython was given one
            command = argv if isinstance(argv, str) else " ".join(map(str, argv))
            detail = str(exc.stderr or "").strip()
            raise JobFailed(redact(f"{command} failed (status {exc.status}): {detail}")) from None
