"""Where a wave's campaign is assembled: the files, plus the approved initiative requests.

Loading a campaign (``campaign.bundle.load_bundle``) reads only its files. A wave may also
highlight an initiative an organisation asked to publish and the team approved; those live in
the database, so they join the campaign here, on the way to a wave: for the workers and the
scheduler (``waves.bundles``) and for the front ends' validate, preview, approve and send. The
database is read only when a wave names an initiative campaign.yaml lacks, so an ordinary
campaign is assembled without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from campaign.bundle import Bundle, read_bundle
from campaign.errors import InvalidInput, Problem, WavecastError
from campaign.initiative_requests import approved_initiatives
from campaign.model import Initiative
from campaign.render_check import validated
from campaign.settings import get_settings


def _database_absent() -> bool:
    """An embedded SQLite file that does not exist holds no approvals; do not create it to look."""
    url = make_url(get_settings().database_url)
    if not url.drivername.startswith("sqlite"):
        return False
    database = url.database
    return not database or database == ":memory:" or not Path(database).exists()


def lookup_approved(campaign_id: str) -> tuple[list[Initiative], str | None]:
    """Approved initiatives, or none and the reason when the database cannot be read."""
    try:
        if _database_absent():
            return [], None
        return approved_initiatives(campaign_id), None
    except (WavecastError, SQLAlchemyError, OSError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [], first


def _wanted(bundle: Bundle) -> set[str]:
    """The initiatives the waves highlight that campaign.yaml does not define."""
    spec = bundle.spec
    return {i for w in spec.waves for i in w.initiatives} - {i.id for i in spec.initiatives}


def _check(bundle: Bundle, approved: list[Initiative], error: str | None) -> list[Problem]:
    """A wave may highlight initiatives of campaign.yaml and approved requests, nothing else."""
    spec = bundle.spec
    yaml_ids = {i.id for i in spec.initiatives}
    by_id = {i.id: i for i in approved}
    ambitions = {a.id for a in spec.ambitions}
    found: list[Problem] = []
    if error is not None:
        found.append(
            Problem(
                bundle.campaign_file,
                1,
                1,
                f"cannot read approved initiative requests ({error}); only the initiatives of campaign.yaml count",
                "warning",
            )
        )
    for wi, wave in enumerate(spec.waves):
        for k, initiative_id in enumerate(wave.initiatives):
            if initiative_id in yaml_ids:
                continue
            where = ("waves", wi, "initiatives", k)
            initiative = by_id.get(initiative_id)
            if initiative is None:
                found.append(
                    bundle.source.problem(
                        where,
                        f"unknown initiative {initiative_id!r}: define it in "
                        "campaign.yaml or approve its publication request "
                        "(`wavecast initiatives review`)",
                    )
                )
            elif initiative.ambition not in ambitions:
                message = (
                    f"approved initiative {initiative_id!r} names ambition {initiative.ambition!r}, "
                    "which campaign.yaml no longer has"
                )
                found.append(bundle.source.problem(where, message))
    return found


def _approved(bundle: Bundle) -> tuple[tuple[Initiative, ...], list[Problem]]:
    """The approved initiatives to add, and the problems of the initiatives the waves name."""
    if not _wanted(bundle):
        return (), []
    approved, error = lookup_approved(bundle.spec.campaign.id)
    known = {i.id for i in bundle.spec.initiatives}
    return tuple(i for i in approved if i.id not in known), _check(bundle, approved, error)


def _merged(bundle: Bundle, extra: tuple[Initiative, ...], problems: list[Problem]) -> Bundle:
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(sorted(problems))
    spec = bundle.spec.model_copy(update={"initiatives": bundle.spec.initiatives + extra}) if extra else bundle.spec
    return replace(bundle, spec=spec, warnings=tuple(sorted(problems)))


def assemble(bundle: Bundle) -> Bundle:
    """The loaded campaign with the approved initiatives its waves highlight; raises InvalidInput
    naming each initiative neither campaign.yaml nor an approved request defines.

    When every initiative a wave names is in campaign.yaml, the bundle itself comes back (same
    object, so render caches keyed by it keep working) and the database is not read.
    """
    extra, problems = _approved(bundle)
    if not extra and not problems:
        return bundle
    return _merged(bundle, extra, [*bundle.warnings, *problems])


def assembled(root: Path | str, *, render: bool = True, done: Callable[[int, int], None] | None = None) -> Bundle:
    """A campaign directory as a wave sees it: loaded, assembled and (unless `render` is False)
    validated by rendering every message. Raises InvalidInput with every problem of the files
    and the initiatives at once; rendering runs only on a campaign without such errors."""
    bundle, problems = read_bundle(root)
    extra, found = _approved(bundle)
    merged = _merged(bundle, extra, [*problems, *found])
    return validated(merged, done) if render else merged
