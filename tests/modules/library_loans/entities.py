"""The one entity of the module: a loan of a book to a pupil."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import school_code_field, student_number_field

LIBRARY_LOAN = Entity(
    "library_loan",
    "图书借阅",
    "A book lent to a pupil by the school library.",
    ("loan_id",),
    (
        Field("loan_id", "借阅编号", FieldType.STRING, True, DataClass.INTERNAL),
        student_number_field(),
        school_code_field(),
        # What a child reads is personal: shown only to roles cleared for 敏感 data.
        Field("book_title", "书名", FieldType.STRING, True, DataClass.SENSITIVE),
        Field("loan_date", "借出日期", FieldType.DATE, True),
        Field("return_date", "归还日期", FieldType.DATE, False),
    ),
)
