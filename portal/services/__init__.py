"""Writes about people, studios and access, one module per entity (zulip-style actions). Import the module you
need (`from portal.services import invites`); nothing is re-exported here."""
