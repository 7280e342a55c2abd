"""`wavecast dkim keygen`: a DKIM key for the newsletter, and the DNS record that publishes it."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from campaign.bundle import load_bundle
from campaign.dkim_keys import DNS_NAME, KEY_SETTING, new_key, txt_record, write_key
from campaign.errors import WavecastError
from campaign.settings import get_settings
from frontends.cli.app import app

dkim_app = typer.Typer(help="DKIM signing keys for the newsletter.", no_args_is_help=True)
app.add_typer(dkim_app, name="dkim")
PLACEHOLDER = "DOMAIN"


class Algorithm(StrEnum):
    rsa = "rsa"
    ed25519 = "ed25519"


@dkim_app.command("keygen")
def keygen(
    selector: str = typer.Option(..., "--selector", help="The selector the record is published under (S._domainkey)."),
    out_file: Path = typer.Option(..., "--out", help="Where to write the private key (PEM, mode 600)."),
    algorithm: Algorithm = typer.Option(Algorithm.rsa, "--algorithm", help="rsa (rsa-sha256) or ed25519."),
    bits: int | None = typer.Option(None, "--bits", min=2048, max=4096, help="RSA key size.", show_default="2048"),
    domain: str | None = typer.Option(None, "--domain", help="The From domain the record is for."),
    campaign: Path | None = typer.Option(
        None,
        "--campaign",
        "-C",
        metavar="DIR",
        help="Take the domain from this campaign's sender (default: WAVECAST_CAMPAIGN, unless --domain is given).",
        show_default=False,
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing key file."),
) -> None:
    """Write a new private key and print the TXT record to publish for it.

    Every message is signed for its From domain (d=), so the record goes under
    SELECTOR._domainkey.<From domain>, once for each domain the campaigns send from."""
    if not DNS_NAME.match(selector):
        raise WavecastError(f"--selector {selector!r}: a selector is DNS labels (letters, digits, -, .)")
    if bits is not None and algorithm is Algorithm.ed25519:
        raise WavecastError("--bits is for RSA keys; an Ed25519 key has no size to choose")
    if domain is not None and campaign is not None:
        raise WavecastError("give --domain or --campaign, not both")
    if domain is None and campaign is None:
        campaign = get_settings().campaign_dir
    name = _domain(domain, campaign)
    if out_file.exists() and not force:
        raise WavecastError(f"{out_file}: the file exists; keep it, or replace it with --force")
    if not out_file.parent.is_dir():
        raise WavecastError(f"{out_file.parent}: no such directory")
    key = new_key(algorithm.value, bits or 2048)
    try:
        write_key(out_file, key, replace=force)
    except FileExistsError:
        raise WavecastError(f"{out_file}: the file exists; keep it, or replace it with --force") from None
    except OSError as exc:
        raise WavecastError(f"{out_file}: cannot write the key ({exc.strerror or exc})") from None
    sys.stdout.write(txt_record(selector, name or PLACEHOLDER, key) + "\n")
    if name is None:
        sys.stderr.write(
            f"replace {PLACEHOLDER} with the domain of your campaigns' From address (sender.address in "
            "campaign.yaml); publish the record under each From domain you send from\n"
        )
    sys.stderr.write(
        f"wrote the private key to {out_file} (mode 600; keep it secret). Publish the record, then set "
        f"{KEY_SETTING}={out_file.resolve()} and WAVECAST_DKIM_SELECTOR={selector}\n"
    )


def _domain(domain: str | None, campaign: Path | None) -> str | None:
    """The record's domain in its ASCII form: --domain, the campaign's From domain, or None."""
    if campaign is not None:
        if not (campaign / "campaign.yaml").is_file():
            raise WavecastError(f"{campaign}: not a campaign directory (no campaign.yaml)")
        domain = load_bundle(campaign).spec.campaign.sender.address.rpartition("@")[2]
    if domain is None:
        return None
    try:
        ascii_name = domain.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_name = ""
    if not DNS_NAME.match(ascii_name) or "." not in ascii_name:
        raise WavecastError(f"{domain!r}: not a domain name")
    return ascii_name
