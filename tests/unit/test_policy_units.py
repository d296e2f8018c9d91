"""The unit rules of decision 0012 as plain functions: the workspace's region, who covers it,
what a scope may act on, and the values the operational store filters by."""

from __future__ import annotations

from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.steward import REVIEW_TABLE
from edubrain.service.policy import (
    PERSON_MENTIONS,
    REVIEW_QUEUE,
    Scope,
    ScopeLevel,
    covers_workspace,
    operational_scope,
    units_in_scope,
    units_to_act_on,
    workspace_region,
)

TWO_COUNTIES = {"3133010001": "339901", "3133010002": "339901", "3399020001": "339902"}
ONE_COUNTY = {k: v for k, v in TWO_COUNTIES.items() if v == "339901"}


def test_the_workspace_region_is_the_smallest_region_holding_every_school() -> None:
    assert workspace_region(ONE_COUNTY) == "339901"
    assert workspace_region(TWO_COUNTIES) == "339900"
    assert workspace_region(TWO_COUNTIES | {"1100000001": "110101"}) is None
    assert workspace_region({}) is None


def test_only_a_scope_over_the_whole_workspace_covers_it() -> None:
    county = Scope(ScopeLevel.COUNTY, "339901")
    city = Scope(ScopeLevel.CITY, "339900")
    assert covers_workspace(county, ONE_COUNTY)
    assert not covers_workspace(county, TWO_COUNTIES)
    assert covers_workspace(city, TWO_COUNTIES)
    assert not covers_workspace(Scope(ScopeLevel.SCHOOL, "3133010001"), ONE_COUNTY)
    assert not covers_workspace(county, {})


def test_the_store_filters_by_school_codes_and_a_region_prefix() -> None:
    units = operational_scope(Scope(ScopeLevel.COUNTY, "339902"), TWO_COUNTIES)
    assert units.schools == {"3399020001"} and not units.everything
    assert units.covers(None, "339902") and units.covers("3399020001", None)
    assert not units.covers("3133010001", "339901")
    assert not units.covers(None, "339900")  # the city's activity is not the county's
    assert not units.covers(None, None)  # no unit: deny
    city = operational_scope(Scope(ScopeLevel.CITY, "339900"), TWO_COUNTIES)
    assert city.everything and city.covers(None, None)


def test_a_principal_reads_the_county_but_acts_on_the_school_only() -> None:
    principal = Scope(ScopeLevel.SCHOOL, "3133010001")
    assert units_in_scope(principal, ONE_COUNTY).covers("county", "339901")
    acting = units_to_act_on(principal, ONE_COUNTY)
    assert acting.covers("school", "3133010001")
    assert not acting.covers("county", "339901")
    assert not acting.covers("school", "3133010002")
    county = units_to_act_on(Scope(ScopeLevel.COUNTY, "339901"), ONE_COUNTY)
    assert county.covers("county", "339901") and county.covers("school", "3133010002")
    assert not county.covers("city", "339900")  # read beside the county's, not the county's
    teacher = units_to_act_on(Scope(ScopeLevel.CLASS, "3133010001/2025-2026/11/1"), ONE_COUNTY)
    assert not teacher.covers("school", "3133010001")


def test_the_policy_names_the_identity_tables_as_govern_does() -> None:
    assert (PERSON_MENTIONS, REVIEW_QUEUE) == (PERSON_MENTION_TABLE, REVIEW_TABLE)
