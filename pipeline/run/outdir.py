"""The output folder: where its files go, what a run checks before writing into it, how it clears
another run's output, and the manifest, written last, that makes an output complete."""
from __future__ import annotations

import os
import platform
import shutil
from importlib import metadata

import xxhash

from .. import __version__, faults
from ..errors import RunError
from ..io import atomic

# What a run writes in its output folder; anything else there stops it (it is not ours to clear).
ENTRIES = {"docs", "ledger", "_work", "stats.json", "manifest.json", "report.md", "report.html", ".lock"}


def docs_file(out: str, lang: str, sid: int) -> str:
    return os.path.join(out, "docs", f"lang={lang}", f"part-{sid:05d}.parquet")


def ledger_file(out: str, sid: int) -> str:
    return os.path.join(out, "ledger", f"part-{sid:05d}.parquet")


def remove_other_languages(out: str, sid: int, langs) -> None:
    """A shard's document files in the languages it no longer writes: an attempt whose barrier was
    redone (``WorkFolder.resume``), or that was killed in phase 2, may have written some."""
    docs = os.path.join(out, "docs")
    for folder in sorted(os.listdir(docs)) if os.path.isdir(docs) else ():
        if folder.startswith("lang=") and folder[5:] not in langs:
            old = docs_file(out, folder[5:], sid)
            if os.path.exists(old):
                os.remove(old)


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_apart(out: str, state: str, paths, files=()) -> None:
    """No input inside the output or state folder, neither of them inside a folder given as input,
    and no state folder inside the output folder: a run clears its output folder of another run's
    files (an input there was deleted before it was read), and a folder given as input is read
    whole (a later run would read this run's output, or the history index's key files, as
    documents). An output folder inside the state folder is fine (the index is in its own
    ``index/``)."""
    for arg in paths:
        if os.path.isdir(arg):
            for what, folder in (("output", out), ("state", state)):
                if folder and _inside(folder, arg):
                    raise RunError(f"the {what} folder {folder} is inside the input folder {arg}: a later run "
                                   f"would read it as input; choose another {what} folder, outside the input")
    for f in files:
        for what, folder in (("output", out), ("state", state)):
            if folder and _inside(f.path, folder):
                raise RunError(f"input {f.path} is inside the {what} folder {folder}, which the run writes "
                               f"(and clears of other runs' files); move the input or choose another {what} folder")
    if state and _inside(state, out):
        raise RunError(f"the state folder {state} is the output folder {out} or inside it: a run clears its "
                       "output folder of files it did not write; choose a state folder outside it")


def make_writable(out: str) -> None:
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f"{atomic.TMP_MARK}probe")
        with open(probe, "w") as fh:
            fh.write("")
        os.remove(probe)
    except OSError as e:
        raise RunError(f"output folder {out} is not writable: {e.strerror}") from None


def _same_folder(a: str | None, b: str | None) -> bool:
    return (not a and not b) or bool(a and b and os.path.realpath(a) == os.path.realpath(b))


def prepare(out: str, run_id: str, state: str | None) -> bool:
    """Clear another run's output; return True if this run is already complete: the same run id
    and the same state folder (``state``; None: not used, without dedup). A complete output is not
    redone because later runs grew the index, but it is when a state folder is added, changed or
    left out: from scratch, as the work folder of a complete run may be half removed."""
    extra = sorted(n for n in set(os.listdir(out)) - ENTRIES if not n.startswith(atomic.TMP_MARK))
    if extra:
        raise RunError(f"output folder {out} holds files this pipeline did not write ({', '.join(extra[:3])}); "
                       "choose an empty or earlier output folder")
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        try:
            m = atomic.read_json(manifest)
        except (OSError, ValueError):
            m = {}
        if (m.get("run_id") == run_id and (state is None or _same_folder(m.get("state"), state))
                and all(os.path.exists(os.path.join(out, f["path"])) for f in m.get("outputs", []))):
            return True
        shutil.rmtree(os.path.join(out, "_work", run_id), ignore_errors=True)
        os.remove(manifest)
    work = os.path.join(out, "_work")
    if os.path.isdir(work):
        for name in os.listdir(work):
            if name != run_id:
                shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    if not os.path.isdir(os.path.join(work, run_id)):
        # Nothing of this run yet: whatever output is here belongs to another run.
        for name in ("docs", "ledger", "stats.json", "report.md", "report.html"):
            p = os.path.join(out, name)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
    atomic.remove_temporaries(out)
    return False


def remove_work(out: str) -> None:
    shutil.rmtree(os.path.join(out, "_work"), ignore_errors=True)


def _versions() -> dict:
    out = {"python": platform.python_version(), "pipeline": __version__}
    for pkg in ("pyarrow", "ftfy", "pycld2", "fasttext-predict", "sentencex", "datasketch", "langdetect", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _digest(path: str) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out: str, run_id: str, config: dict, files, shards, outputs, state: str) -> None:
    """The manifest, last: the run's id, config, versions, inputs, shards, and every output file
    with its size and hash. An output folder with it is complete."""
    manifest = {
        "run_id": run_id, "config": config, "versions": _versions(),
        "inputs": [{"path": f.rel, "format": f.fmt, "bytes": f.size, "xxh3_128": f.digest} for f in files],
        "shards": [s.to_dict() | {"files": [[i, rel] for i, _p, rel in s.files]} for s in shards],
        "outputs": [{"path": p, "bytes": os.path.getsize(os.path.join(out, p)),
                     "xxh3_128": _digest(os.path.join(out, p))} for p in outputs],
        "state": state or None,
    }
    faults.point("before-manifest")
    atomic.write_json(manifest, os.path.join(out, "manifest.json"))
