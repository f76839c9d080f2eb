"""Entity resolution: merge the mentions of one entity into one node, reversibly.

``EntityResolver.plan`` proposes ``MergeRecord``s (normalised form, aliases, embeddings, only
between compatible classes); ``apply_merges`` and ``undo_merge`` rewrite assertions either way,
and ``merge_changes`` turns a rewrite into changes a ``GraphStore`` applies atomically.
"""

from pipeline.resolve.entities import EntityResolver, aliases_in_text, mention_counts
from pipeline.resolve.merges import (
    apply_merges,
    merge_changes,
    merge_targets,
    merged_triple,
    undo_merge,
)
from pipeline.text.normalise import resolution_key

__all__ = [
    "EntityResolver",
    "aliases_in_text",
    "apply_merges",
    "mention_counts",
    "merge_changes",
    "merge_targets",
    "merged_triple",
    "resolution_key",
    "undo_merge",
]
