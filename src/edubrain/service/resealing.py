"""Re-sealing the operational store under a new data key (`edubrain keys rotate`).

The store keeps sealed 学籍号 wherever people's work names a pupil: self scopes (`users`,
`export_requests`), the audit trail's scopes, record keys and queries, steward decisions'
mention keys. Every text column of every table is rewritten in one transaction: each token not
under the current key is opened and sealed again, and ID numbers still in clear (an older
store) are sealed. The audit chain hashes the text it holds, so after its records are rewritten
the chain is computed again from the first record; it is verified first, so a chain that was
already broken is reported, never silently re-blessed. The triggers that keep `audit_log`
append-only are lifted inside that transaction only, and are back when it commits.
"""

from __future__ import annotations

from collections.abc import Callable

from edubrain.errors import ConflictError
from edubrain.sealing import Sealer
from edubrain.service.store import Store


class ResealError(ConflictError):
    """The operational store cannot be re-sealed as it is (a broken audit chain)."""


def reseal_store(
    store: Store, sealer: Sealer, progress: Callable[[str, int], None] | None = None
) -> int:
    """Every sealed value in the store under `sealer`'s current key; returns values changed."""
    report = store.verify_audit_chain()
    if not report.ok:
        raise ResealError(
            f"the audit chain is broken at record {report.broken_seq} ({report.problem}); "
            "nothing was re-sealed"
        )
    return store.rewrite_text_values(
        lambda old: sealer.reseal_text(sealer.seal_valid_ids(old)), progress
    )
