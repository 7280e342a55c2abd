"""The newsletter channel: one e-mail per person, to the contact's address, in the shared layout.

Its rendering is campaign/newsletter.py; its messenger (SMTP or .eml files, with DKIM and the
bounce address) is on the send side, waves/channels/newsletter.py.
"""

from __future__ import annotations

from campaign.channel_ids import NEWSLETTER, ChannelDeclaration, ChannelLimits, Reach
from campaign.newsletter import build_newsletter

CHANNEL = ChannelDeclaration(
    ChannelLimits(NEWSLETTER, Reach.PERSON), build_newsletter, units=("e-mail", "e-mails"), uses_layout=True
)
