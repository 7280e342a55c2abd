"""What every check reads: the settings, the campaign (when one is given), where TXT records
come from; and how much a finding weighs.

A relay is configured when WAVECAST_SMTP_URL is set: messages then reach people, and what would
hurt their delivery is a fail. On the embedded default (.eml files in the outbox) nothing
leaves the machine, so the same findings are warnings and the DNS and relay checks say they
were not made: the example campaign's demo runs there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from campaign.bundle import Bundle
from campaign.phrase import Phrase
from campaign.settings import Settings
from waves.doctor.check import Status
from waves.doctor.records import TxtSource
from waves.doctor.sample import Sample

NO_RELAY = Phrase("not checked: no relay configured (WAVECAST_SMTP_URL unset: e-mail goes to .eml files)")


@dataclass(frozen=True)
class Context:
    settings: Settings
    bundle: Bundle | None
    txt: TxtSource | None  # None: DNS is not looked at (no relay and no records file)
    sample: Sample | None  # the campaign's first e-mail as sent; None: it sends none

    @property
    def relay(self) -> bool:
        return self.settings.smtp is not None

    @property
    def loopback_relay(self) -> bool:
        """A mail server on this machine, which queues and paces on its own."""
        if self.settings.smtp is None:
            return False
        host = self.settings.smtp.host.strip("[]").lower()
        try:
            return host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def weight(self) -> Status:
        """What a finding that would hurt delivery is: a fail once messages reach people."""
        return Status.FAIL if self.relay else Status.WARN

    @property
    def from_domain(self) -> str | None:
        if self.bundle is None:
            return None
        return self.bundle.spec.campaign.sender.address.rsplit("@", 1)[1].lower()

    @property
    def bounce_domain(self) -> str | None:
        """The envelope sender's domain, as campaign.verp.return_path makes it: the bounce
        mailbox's, else the From domain. SPF is checked there."""
        address = self.settings.bounces.address
        return address.rsplit("@", 1)[1].lower() if address else self.from_domain
