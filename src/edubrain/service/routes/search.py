"""Search (搜索): schools and pupils for one query, as the caller may find them
(`service.search`: scoped, masked, audited, bounded, no oracle)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from edubrain.service import search as searching
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission
from edubrain.service.schemas import SearchResults

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResults)
def search(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.ME_READ)],
    q: Annotated[
        str,
        Query(
            min_length=searching.MIN_QUERY,
            max_length=searching.MAX_QUERY,
            description="A school's name or 学校标识码, a pupil's 姓名 or 学籍号",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=searching.MAX_HITS)] = searching.MAX_HITS,
) -> dict[str, Any]:
    """Schools of the caller's region by name or code, and pupils of the caller's scope by the
    fields the caller sees in clear (`pupil_fields`), masked for the caller; audited."""
    return searching.search(services, trail, actor, q, limit)
