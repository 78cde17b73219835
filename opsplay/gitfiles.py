"""Reading playbooks from git: `REF:path`, merge bases, shallow clones, changed files.

Everything goes through the `git` command (no library), with messages that say what to
do when the history needed is not there, as happens in CI clones fetched with depth 1.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from opsplay.discovery import SUFFIXES
from opsplay.errors import UsageError
from opsplay.i18n import N_, _

FULL_HISTORY = N_(
    "fetch the full history: in GitHub Actions give actions/checkout `fetch-depth: 0`; "
    "in GitLab CI set `GIT_DEPTH: 0`; locally run `git fetch --unshallow`"
)


@dataclass(frozen=True)
class ChangedFile:
    """A file that differs between a commit and the working tree (`status` as git prints it)."""

    status: str  # A added, M modified, R renamed, T type changed, D deleted
    old_path: str | None
    new_path: str | None


@dataclass(frozen=True)
class RefContent:
    """What `REF:path` names: one file, or the playbook files of a folder."""

    label: str
    is_folder: bool
    files: dict[str, bytes]  # display name ("main:playbooks/a.yaml") → content


def run_git(
    args: list[str], cwd: Path, *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git; raise UsageError when git itself is missing."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError(
            _("git is not installed or not on PATH; install git to compare with a git ref")
        ) from None
    except NotADirectoryError:
        raise UsageError(_("{path} is not a folder").format(path=cwd)) from None


def _out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8", "replace").strip()


def _err(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip()
    return (
        text.splitlines()[-1]
        if text
        else _("git exited with {code}").format(code=result.returncode)
    )


def repo_root(start: Path) -> Path:
    """The top folder of the git work tree containing `start`."""
    folder = start if start.is_dir() else start.parent
    result = run_git(["rev-parse", "--show-toplevel"], folder if folder.exists() else Path.cwd())
    if result.returncode != 0:
        raise UsageError(
            _("{path} is not inside a git repository (git: {reason})").format(
                path=folder, reason=_err(result)
            )
        )
    return Path(_out(result))


def is_shallow(root: Path) -> bool:
    """True in a shallow clone (fetched with --depth), where older history is missing."""
    return _out(run_git(["rev-parse", "--is-shallow-repository"], root)) == "true"


def _check_ref_text(ref: str) -> None:
    if not ref or ref.startswith("-") or any(ch.isspace() for ch in ref):
        raise UsageError(
            _("`{ref}` is not a git ref; write a branch, tag or commit such as origin/main").format(
                ref=ref
            )
        )


def resolve_commit(root: Path, ref: str) -> str:
    """The full commit id of `ref`; UsageError saying what to fetch when it is missing."""
    _check_ref_text(ref)
    result = run_git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if result.returncode == 0:
        return _out(result)
    if is_shallow(root):
        raise UsageError(
            _("git ref `{ref}` is not in this clone, which is shallow; {how}").format(
                ref=ref, how=_(FULL_HISTORY)
            )
        )
    raise UsageError(
        _(
            "git ref `{ref}` not found; check its spelling or fetch it first "
            "(e.g. `git fetch origin main` and then use `origin/main`)"
        ).format(ref=ref)
    )


def merge_base(root: Path, ref: str) -> str:
    """The merge base of `ref` and HEAD: the commit a branch started from."""
    if is_shallow(root):
        raise UsageError(
            _(
                "cannot compare with `{ref}`: this clone is shallow, so the history down to the "
                "merge base is missing and changed playbooks cannot be found reliably; {how}"
            ).format(ref=ref, how=_(FULL_HISTORY))
        )
    commit = resolve_commit(root, ref)
    head = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root)
    if head.returncode != 0:
        raise UsageError(_("HEAD has no commit yet; commit first, then compare with a base ref"))
    result = run_git(["merge-base", commit, "HEAD"], root)
    if result.returncode != 0:
        raise UsageError(
            _(
                "`{ref}` and HEAD share no history (no merge base); "
                "compare with a ref of the same project"
            ).format(ref=ref)
        )
    return _out(result)


def changed_files(root: Path, base: str, pathspecs: Iterable[str]) -> list[ChangedFile]:
    """Files under `pathspecs` that differ between `base` and the work tree (renames followed)."""
    specs = list(pathspecs) or ["."]
    result = run_git(
        ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", base, "--", *specs],
        root,
    )
    if result.returncode != 0:
        raise UsageError(
            _("cannot list files changed since {commit}: {reason}").format(
                commit=base[:12], reason=_err(result)
            )
        )
    fields = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    changes: list[ChangedFile] = []
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        if status[0] in "RC":
            changes.append(ChangedFile(status[0], fields[index + 1], fields[index + 2]))
            index += 3
        else:
            path = fields[index + 1]
            changes.append(
                ChangedFile(
                    status[0],
                    None if status[0] == "A" else path,
                    None if status[0] == "D" else path,
                )
            )
            index += 2
    return changes


def read_blobs(root: Path, specs: list[str]) -> dict[str, bytes | None]:
    """Contents of `REV:path` object names in one git call (None for those that do not exist)."""
    if not specs:
        return {}
    if any("\n" in spec for spec in specs):
        raise UsageError(_("a path with a line break cannot be read from git"))
    result = run_git(
        ["cat-file", "--batch"], root, stdin="".join(f"{s}\n" for s in specs).encode("utf-8")
    )
    if result.returncode != 0:
        raise UsageError(_("cannot read files from git: {reason}").format(reason=_err(result)))
    out, position, found = result.stdout, 0, {}
    for spec in specs:
        end = out.index(b"\n", position)
        header = out[position:end].decode("utf-8", "replace").split()
        position = end + 1
        if len(header) == 3 and header[1] != "missing":
            size = int(header[2])
            found[spec] = out[position : position + size] if header[1] == "blob" else None
            position += size + 1
        else:
            found[spec] = None
    return found


def split_ref_path(argument: str) -> tuple[str, str] | None:
    """(ref, path) for `REF:path`; None for a plain path (including `C:\\…` on Windows)."""
    ref, sep, path = argument.partition(":")
    if not sep or not ref or (len(ref) == 1 and ref.isalpha() and path[:1] in ("\\", "/")):
        return None
    return ref, path


def read_ref_path(argument: str) -> RefContent:
    """Read `REF:path` (a playbook file, or a folder of them) from the current repository."""
    parsed = split_ref_path(argument)
    if parsed is None:
        raise UsageError(
            _("`{argument}` is not of the form REF:path (e.g. main:playbooks/a.yaml)").format(
                argument=argument
            )
        )
    ref, raw_path = parsed
    cwd = Path.cwd()
    root = repo_root(cwd)
    commit = resolve_commit(root, ref)
    path = _root_relative(raw_path, cwd, root)
    kind = run_git(["cat-file", "-t", f"{commit}:{path}" if path else f"{commit}^{{tree}}"], root)
    label = f"{ref}:{path}" if path else f"{ref}:"
    if kind.returncode != 0:
        raise UsageError(
            _(
                "`{path}` does not exist in {ref} ({commit}); "
                "check the path (relative to the repository root)"
            ).format(path=path, ref=ref, commit=commit[:12])
        )
    if _out(kind) == "blob":
        blobs = read_blobs(root, [f"{commit}:{path}"])
        return RefContent(label, False, {label: blobs[f"{commit}:{path}"] or b""})
    listing = run_git(["ls-tree", "-r", "-z", "--name-only", commit, "--", path or "."], root)
    if listing.returncode != 0:
        raise UsageError(
            _("cannot list `{path}` in {ref}: {reason}").format(
                path=path, ref=ref, reason=_err(listing)
            )
        )
    names = [n for n in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    prefix = PurePosixPath(path) if path else PurePosixPath()
    playbooks = sorted(
        n
        for n in names
        if n.endswith(SUFFIXES)
        and not any(part.startswith(".") for part in PurePosixPath(n).relative_to(prefix).parts)
    )
    blobs = read_blobs(root, [f"{commit}:{n}" for n in playbooks])
    return RefContent(label, True, {f"{ref}:{n}": blobs[f"{commit}:{n}"] or b"" for n in playbooks})


def _root_relative(path: str, cwd: Path, root: Path) -> str:
    """git's convention: `REF:path` is relative to the root, `REF:./path` to the current folder."""
    if path.startswith(("./", "../")) or path in (".", ".."):
        absolute = (cwd / path).resolve()
        try:
            path = absolute.relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(
                _("{path} is outside the git repository {root}").format(path=path, root=root)
            ) from None
        return "" if path == "." else path
    return path.strip("/")
