"""The content hash of a wave: everything the wave would send, in every audience, language and channel.

An approval is for one hash; editing a message file, a title the messages show, the sender, the
hashtags or the shared layout changes the hash and so voids the approval.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from campaign.bundle import Bundle

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
# The layouts that shape what is sent; the web app's own pages (templates/web) are not content.
SENT_LAYOUTS = ("newsletter",)


def _layout_files() -> list[Path]:
    return sorted(p for folder in SENT_LAYOUTS for p in (TEMPLATES_DIR / folder).rglob("*") if p.is_file())


def wave_content_hash(bundle: Bundle, wave_id: str) -> str:
    spec = bundle.spec
    wave = spec.wave(wave_id)
    audiences = {a for m in wave.messages for a in m.audiences}
    initiatives = [spec.initiative(i) for i in wave.initiatives]
    ambitions = {i.ambition for i in initiatives}
    document = {
        "campaign": spec.campaign.model_dump(mode="json"),
        "channels": {k: v.model_dump(mode="json") for k, v in spec.channels.items()},
        "wave": wave.model_dump(mode="json"),
        "audiences": [spec.audience(a).model_dump(mode="json") for a in sorted(audiences)],
        "initiatives": [i.model_dump(mode="json") for i in initiatives],
        "ambitions": [spec.ambition(a).model_dump(mode="json") for a in sorted(ambitions)],
        # Not the path: it is shown relative to the current directory, and an approval must
        # not depend on where a command was run from.
        "messages": {
            f"{template}.{lang}": bundle.messages[(template, lang)].model_dump(mode="json", exclude={"path"})
            for template in sorted({m.template for m in wave.messages})
            for lang in spec.campaign.languages
        },
    }
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode())
    for path in _layout_files():
        digest.update(str(path.relative_to(TEMPLATES_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
