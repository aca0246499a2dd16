"""The one error retention adds to the domain tree."""

from backend.errors import NotFound


class VersionPruned(NotFound):
    """The version is still listed in history, but retention removed its content.

    410 Gone rather than 404: the version existed and its metadata stays; only
    its bytes went, on purpose, under the source's retention policy.
    """

    status = 410
    code = "VERSION_PRUNED"
