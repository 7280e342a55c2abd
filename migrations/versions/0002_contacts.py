"""Contacts, their tags and custom attributes, and the suppression list.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("organisation_kind", sa.String(64), nullable=True),
        sa.Column("organisation_name", sa.String(300), nullable=True),
        sa.Column("organisation_founded", sa.Date(), nullable=True),
        sa.Column("consent_source", sa.String(200), nullable=True),
        sa.Column("consent_at", UTCDateTime(), nullable=True),
        sa.Column("unsubscribed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("email", name="uq_contacts_email"),
        sa.UniqueConstraint("email_hash", name="uq_contacts_email_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contacts_birth_year", "contacts", ["birth_year"])
    op.create_index("ix_contacts_organisation_kind", "contacts", ["organisation_kind"])
    op.create_index("ix_contacts_region", "contacts", ["region"])
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE",
                                name="fk_contact_tags_contact_id_contacts"),
        sa.PrimaryKeyConstraint("contact_id", "tag", name="pk_contact_tags"),
    )
    op.create_index("ix_contact_tags_tag_contact", "contact_tags", ["tag", "contact_id"])
    op.create_table(
        "contact_attributes",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE",
                                name="fk_contact_attributes_contact_id_contacts"),
        sa.PrimaryKeyConstraint("contact_id", "name", name="pk_contact_attributes"),
    )
    op.create_index("ix_contact_attributes_name_value", "contact_attributes", ["name", "value"])
    op.create_table(
        "suppressions",
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name="pk_suppressions"),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_index("ix_contact_attributes_name_value", table_name="contact_attributes")
    op.drop_table("contact_attributes")
    op.drop_index("ix_contact_tags_tag_contact", table_name="contact_tags")
    op.drop_table("contact_tags")
    op.drop_index("ix_contacts_region", table_name="contacts")
    op.drop_index("ix_contacts_organisation_kind", table_name="contacts")
    op.drop_index("ix_contacts_birth_year", table_name="contacts")
    op.drop_table("contacts")
