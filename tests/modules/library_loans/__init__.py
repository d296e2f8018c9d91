"""图书借阅: a small domain module that lives only in the tests.

It shows that a new domain is one folder plus one registry line: this folder declares the
entity, its source mapping, a quality rule, a person source, an indicator family, a scope rule,
a permission, a section of the pupil's portrait, an API route, a cockpit page, a CLI command and
its part of the synthetic-region generator, and the tests install it beside the registry's
modules (`edubrain.installed.installing`) — nothing outside this folder knows it exists.
"""

from __future__ import annotations

from importlib import resources

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import DatesInOrder, NeededField
from edubrain.govern.references import Reference
from edubrain.modules.spec import Module
from edubrain.service.policy import of_person
from edubrain.service.portrait import PortraitSection, records_of
from edubrain.service.schemas import record_model

from .cli import commands
from .entities import LIBRARY_LOAN
from .generator import PART as GENERATOR
from .indicators import FAMILY
from .pages import pages
from .routes import LIBRARY_READ, routes

MODULE = Module(
    name="library_loans",
    label="图书借阅",
    description="学校图书馆的学生借阅记录。",
    requires=("roster",),
    entities=(LIBRARY_LOAN,),
    references=(Reference("library_loan", ("student_number",), "student"),),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        DatesInOrder("library_loan", "loan_date", "return_date", strict=False),
        NeededField("library_loan", "return_date", "借阅周期统计", "loan durations"),
    ),
    # A loan names its pupil by the 学籍号 alone: one person mention per borrowing pupil.
    persons=(
        PersonSource(
            "library_loan", "图书借阅", fields={"school_code": "school_code"}, by_number=True
        ),
    ),
    indicators=(FAMILY,),
    scope=(of_person("library_loan", "student_number"),),
    permissions=(LIBRARY_READ,),
    portrait=(
        PortraitSection(
            "library",
            "library loans",
            records_of("library_loan", "student_number"),
            lambda: record_model("library_loan", "LibraryLoanPublic"),
        ),
    ),
    routes=routes,
    pages=pages,
    commands=commands,
    generator=GENERATOR,
)
