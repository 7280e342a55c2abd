"""A campaign as loaded: the frozen value the rest of wavecast works on.

Apart from the loader (``campaign.bundle``) because the checks the loader runs
(``campaign.validate``) take this value too; here it sits below both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from campaign.errors import Problem
from campaign.load import Source
from campaign.model import Campaign, MessageFile


@dataclass(frozen=True)
class Bundle:
    root: Path
    spec: Campaign
    source: Source
    messages: dict[tuple[str, str], MessageFile]
    message_sources: dict[str, Source] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    @property
    def campaign_file(self) -> str:
        return self.source.file

    def message(self, template: str, lang: str) -> MessageFile:
        return self.messages[(template, lang)]

    def content_hash(self) -> str:
        """Hash of everything the campaign would send (spec and message files)."""
        digest = hashlib.sha256(self.spec.model_dump_json().encode())
        for key in sorted(self.messages):
            mf = self.messages[key]
            digest.update(repr(key).encode())
            digest.update(mf.model_dump_json().encode())
        return digest.hexdigest()
