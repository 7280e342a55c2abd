"""What the channels of one short text share (SMS, push): the message file's subject, rendered
once per segment with a slot standing for each personal field, its place in the file for the
problems validation reports, and the name fallbacks in the audience's register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from campaign.channel_contract import RenderRequest
from campaign.layout_strings import register_for
from campaign.newsletter import name_fallbacks
from campaign.render import RenderFailed, Where, check_template, render
from campaign.template_context import message_link, template_context


@dataclass(frozen=True)
class ShortText:
    file: str
    line: int
    where: Where  # the subject's place in its message file
    subject: str  # on one line, each personal field as its slot
    link: str  # UTM-tagged for the channel
    fallbacks: tuple[str, str]  # what stands in for a missing first name and organisation


def short_text(request: RenderRequest, slots: Mapping[str, str], medium: str) -> ShortText:
    """The segment's subject with SLOTS for the personal fields; raises RenderFailed naming the
    file and line of a subject that does not render."""
    bundle, key = request.bundle, request.key
    spec = bundle.spec
    mf = bundle.message(request.message.template, key.lang)
    source = bundle.message_sources.get(mf.path)
    line, column = source.locate(("subject",)) if source is not None else (1, 1)
    where = Where(mf.path, line, column)
    problems = check_template(mf.text.subject, where, personal=True)
    if problems:
        raise RenderFailed(problems)
    subject = render(mf.text.subject, template_context(bundle, key, request.start, slots), where)
    return ShortText(
        file=mf.path,
        line=line,
        where=where,
        subject=" ".join(subject.split()),
        link=message_link(spec, key, mf.text.cta, medium),
        fallbacks=name_fallbacks(spec.campaign, key.lang, register_for(spec, key.audience, key.lang)),
    )
