#!/usr/bin/env python3
"""Check out SWE-bench repositories at their base commits, one directory per instance.

Reads a manifest (testdata/agent/mini-swe-agent-20.repos.json) and creates
OUT_DIR/<instance_id>/ holding the repository tree at the instance's base_commit,
made into a one-commit git repository so `git status` / `git diff` work inside.
The checkouts are for:

    depcache replay --real-repos OUT_DIR testdata/agent/mini-swe-agent-20.jsonl

Usage: python3 scripts/swebench-checkouts.py MANIFEST OUT_DIR [--mirrors DIR] [--pypi-fallback]

Each repository is cloned once (bare, blobless) into OUT_DIR/.git-cache/<owner>+<name>,
or taken from a local bare mirror at DIR/<owner>+<name>/repo with --mirrors. The tree
is exported with `git archive | tar -x` (ignoring export-subst/export-ignore, so files
match a plain checkout). With --pypi-fallback, an instance whose repository cannot be
cloned gets the PyPI sdist named in its manifest entry ("pypi") instead: the nearest
release, not the exact commit. Existing OUT_DIR/<instance_id> directories are skipped.
"""
import argparse, hashlib, json, os, re, shutil, subprocess, sys, tarfile, tempfile
import urllib.request, zipfile

GIT_ID = ["-c", "user.name=swebench", "-c", "user.email=swebench@localhost", "-c", "commit.gpgsign=false"]


def git(*args, **kw):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True, **kw).stdout


def repo_gitdir(repo, cache, mirrors, failed):
    """Path of a bare repository for owner/name: a local mirror or a cached clone."""
    key = repo.replace("/", "+")
    if mirrors and os.path.isdir(os.path.join(mirrors, key, "repo")):
        return os.path.join(mirrors, key, "repo")
    if repo in failed:
        raise RuntimeError(failed[repo])
    dest = os.path.join(cache, key)
    if not os.path.isdir(dest):
        url = f"https://github.com/{repo}.git"
        r = subprocess.run(["git", "clone", "--quiet", "--bare", "--filter=blob:none", url, dest],
                           capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(dest, ignore_errors=True)
            failed[repo] = f"git clone {url} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}"
            raise RuntimeError(failed[repo])
    return dest


def export_commit(gitdir, commit, dest):
    """git archive COMMIT | tar -x -C DEST, fetching a blobless clone's blobs in one batch."""
    listing = git("--git-dir", gitdir, "rev-list", "--objects", "--no-walk", "--missing=print", commit)
    missing = "".join(line[1:] + "\n" for line in listing.splitlines() if line.startswith("?"))
    if missing:  # one fetch instead of one per blob during `git archive`
        git("--git-dir", gitdir, "-c", "fetch.negotiationAlgorithm=noop", "fetch", "origin", "--no-tags",
            "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none", "--stdin", input=missing)
    with tempfile.TemporaryDirectory() as empty:  # no worktree .gitattributes: plain tree content
        archive = subprocess.Popen(["git", "--git-dir", gitdir, "--work-tree", empty, "archive",
                                    "--worktree-attributes", commit], stdout=subprocess.PIPE)
        tar = subprocess.run(["tar", "-x", "-C", dest], stdin=archive.stdout)
        archive.stdout.close()
        if archive.wait() != 0 or tar.returncode != 0:
            raise RuntimeError(f"git archive {commit} | tar -x failed")


def download_sdist(spec, tmp):
    """Download the sdist of NAME==VERSION from the package index (its JSON
    simple API), checked against the index's sha256. Not with pip: pip runs
    the package's build to read its metadata, and nothing here builds."""
    name, version = spec.split("==")
    norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    req = urllib.request.Request(f"{index}/{norm(name)}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        entries = json.load(resp)["files"]
    for f in entries:
        m = re.fullmatch(r"(.+)-([^-]+)\.(tar\.gz|zip)", f["filename"])
        if m and norm(m[1]) == norm(name) and m[2] == version:
            path = os.path.join(tmp, f["filename"])
            with urllib.request.urlopen(f["url"], timeout=300) as resp, open(path, "wb") as out:
                shutil.copyfileobj(resp, out)
            with open(path, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != f["hashes"].get("sha256"):
                    raise RuntimeError(f"sha256 mismatch for {f['filename']}")
            return path, "index download"
    raise RuntimeError(f"no sdist for {spec} on {index}")


def unpack_sdist(archive, dest):
    """Unpack an sdist so DEST holds the content of its single top-level directory."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(dest)) as tmp:
        if archive.endswith(".zip"):
            zipfile.ZipFile(archive).extractall(tmp)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        (top,) = os.listdir(tmp)
        os.rmdir(dest)
        shutil.move(os.path.join(tmp, top), dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("out_dir")
    ap.add_argument("--mirrors", help="directory of local bare mirrors: DIR/<owner>+<name>/repo")
    ap.add_argument("--pypi-fallback", action="store_true",
                    help="use the manifest's PyPI sdist when a repository cannot be cloned")
    args = ap.parse_args()
    for tool in ("git", "tar"):
        if shutil.which(tool) is None:
            sys.exit(f"error: `{tool}` not found on PATH; install it and re-run")
    with open(args.manifest) as fh:
        instances = json.load(fh)["instances"]
    cache = os.path.join(args.out_dir, ".git-cache")
    os.makedirs(cache, exist_ok=True)
    failed_clones, failures = {}, 0
    for iid, inst in sorted(instances.items()):
        final = os.path.join(args.out_dir, iid)
        if os.path.exists(final):
            print(f"{iid}: exists, skipped")
            continue
        work = os.path.join(args.out_dir, f".partial-{iid}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        try:
            try:
                gitdir = repo_gitdir(inst["repo"], cache, args.mirrors, failed_clones)
                export_commit(gitdir, inst["base_commit"], work)
                what = f"{inst['repo']}@{inst['base_commit']} from {gitdir}"
            except (RuntimeError, subprocess.CalledProcessError) as e:
                if not (args.pypi_fallback and inst.get("pypi")):
                    raise
                with tempfile.TemporaryDirectory() as tmp:
                    sdist, how = download_sdist(inst["pypi"], tmp)
                    unpack_sdist(sdist, work)
                what = f"PyPI sdist {inst['pypi']} via {how} (not the exact commit; {e})"
            git("init", "-q", cwd=work)
            git("add", "-A", "-f", cwd=work)  # -f: keep tracked files that .gitignore lists
            git(*GIT_ID, "commit", "-q", "--no-verify", "-m", "base", cwd=work)
            os.rename(work, final)
            print(f"{iid}: {what}")
        except Exception as e:  # report, keep going with the other instances
            shutil.rmtree(work, ignore_errors=True)
            detail = e.stderr.strip() if isinstance(e, subprocess.CalledProcessError) else e
            print(f"{iid}: FAILED: {detail}")
            failures += 1
    if failures:
        sys.exit(f"{failures} instance(s) failed")


if __name__ == "__main__":
    main()
