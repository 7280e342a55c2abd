"""Campaign bundles for workers: loaded once per process and content, checked against the run.

A worker renders what was approved or nothing: if the files changed since the wave was
approved and launched, the run is paused with a note instead of sending other content.
"""

from __future__ import annotations

import os
from pathlib import Path

from campaign.bundle import Bundle
from campaign.errors import WavecastError
from waves.assembly import assembled
from waves.content import wave_content_hash


class ContentChanged(WavecastError):
    """The campaign files no longer hold the content this run was approved for."""


_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], Bundle]] = {}
_hashes: dict[tuple[str, str], tuple[Bundle, str]] = {}


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of every file: cheap to read, changes with any edit."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                stat = os.stat(path)
            except OSError:  # a dangling or looping symlink; loading the campaign says what is wrong
                try:
                    stat = os.lstat(path)
                except OSError:  # removed while we looked: the next look sees it gone
                    continue
            found.append((path, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def bundle_at(campaign_dir: str) -> Bundle:
    """The campaign in `campaign_dir` as a wave sends it (assembled, every message rendered once),
    reloaded only when a file in it changed."""
    root = Path(campaign_dir)
    signature = _signature(root)
    cached = _cache.get(campaign_dir)
    if cached is not None and cached[0] == signature:
        return cached[1]
    bundle = assembled(root)
    _cache[campaign_dir] = (signature, bundle)
    return bundle


def bundle_for_run(campaign_dir: str, wave_id: str, content_hash: str) -> Bundle:
    bundle = bundle_at(campaign_dir)
    known = _hashes.get((campaign_dir, wave_id))
    if known is None or known[0] is not bundle:
        known = _hashes[(campaign_dir, wave_id)] = (bundle, wave_content_hash(bundle, wave_id))
    if known[1] != content_hash:
        raise ContentChanged(
            f"the files of wave {wave_id!r} changed since it was approved and launched; "
            "approve the new content, then resume"
        )
    return bundle
