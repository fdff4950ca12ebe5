"""Storage keys: built by the portal only, always under the studio's prefix, never from a user's filename."""


def organization_prefix(organization) -> str:
    return studio_prefix(organization.uuid)


def studio_prefix(studio_uuid) -> str:
    """Where a studio's objects live, from its uuid alone."""
    return f"orgs/{studio_uuid}/"


def asset_prefix(asset) -> str:
    return f"{organization_prefix(asset.organization)}assets/{asset.uuid}/"


def original_key(asset) -> str:
    return f"{asset_prefix(asset)}original"


def rendition_key(asset, kind: str, extension: str) -> str:
    return f"{asset_prefix(asset)}renditions/{kind}.{extension}"


def provenance_key(asset) -> str:
    return f"{asset_prefix(asset)}provenance.json"


def manifest_key(asset) -> str:
    """The output's C2PA manifest store (its `.c2pa` sidecar)."""
    return f"{asset_prefix(asset)}manifest.c2pa"
