"""The SOP scenario search index: one row per scenario from its current published version.

``reindex_scenario(scenario)`` is called by the SOP service whenever a scenario's
current published version changes (publish, archive, restore).
"""

from __future__ import annotations


def reindex_scenario(scenario) -> None:
    """Rebuild the search row of one scenario from its current published version."""
    # The index is being built (sop-search); until then there is nothing to update.
    return None
