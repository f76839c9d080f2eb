"""A command that cannot apply to an ontology file, and why.

The change handlers of both file editors (OBO: :mod:`pipeline.kgcl.obo_changes`, RDF:
:mod:`pipeline.kgcl.rdf_changes`) raise ``Rejection`` with the reason; each editor's driver
undoes the request and raises ``ChangeRequestError`` naming the command's line and text. It
never leaves the package.
"""

from __future__ import annotations

from typing import NoReturn


class Rejection(Exception):
    """A command cannot apply; the message says why (the driver adds line and text)."""


def reject(message: str) -> NoReturn:
    """Refuse the command being applied."""
    raise Rejection(message)


__all__ = ["Rejection", "reject"]
