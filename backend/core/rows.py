"""Model instances from the rows of a hand-written statement, for the few hot statements the ORM would
compile again on every call (Django caches no compiled SQL).

A `Columns` lists a model's columns once (for a SELECT) and turns a slice of a row back into an instance:
each value goes through the same converters the ORM's compiler applies (JSON text to objects, SQLite's
strings to datetimes and UUIDs…), then `Model.from_db`, so the instance is the one a queryset would give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Field, Model, TextField

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


def assignments(connection: BaseDatabaseWrapper, model: type[Model], changes: dict[str, Any]) -> tuple[str, list[Any]]:
    """`column = %s, …` of an UPDATE of `model` that sets `changes` (field name → value, a related row as its
    instance or its id), and the values prepared as the ORM's update prepares them."""
    fields = {field.name: field for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    values = []
    for name, value in changes.items():
        plain = value.pk if isinstance(value, Model) else value
        values.append(fields[name].get_db_prep_save(plain, connection))
    return ", ".join(f"{quote(str(fields[name].column))} = %s" for name in changes), values


class Columns(Generic[M]):
    """The concrete columns of `model` but `leave_out` (those come back deferred), in model order."""

    def __init__(self, model: type[M], *, leave_out: Sequence[str] = ()) -> None:
        self.model = model
        self.fields: list[Field[Any, Any]] = [f for f in model._meta.concrete_fields if f.name not in leave_out]
        self.attnames = [f.attname for f in self.fields]
        self._converters: dict[str, list[tuple[list[Converter], Any]]] = {}
        self._templates: dict[str, tuple[list[Field[Any, Any]], str, str]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def select(self, connection: BaseDatabaseWrapper, alias: str) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(str(f.column))}" for f in self.fields)

    def _converters_for(self, connection: BaseDatabaseWrapper) -> list[tuple[list[Converter], Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for field in self.fields:
                column = field.get_col(str(self.model._meta.db_table))
                found.append((connection.ops.get_db_converters(column) + column.get_db_converters(connection), column))
            self._converters[connection.vendor] = found
        return found

    def insert(self, connection: BaseDatabaseWrapper, instance: M) -> tuple[str, list[Any]]:
        """`INSERT INTO table (columns) VALUES (…)` of a new instance and its parameters, each value prepared as
        the ORM's insert prepares it (auto_now_add and defaults included); the caller adds RETURNING."""
        quote = connection.ops.quote_name
        fields = [f for f in self.fields if not f.primary_key]
        values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
        columns = ", ".join(quote(str(f.column)) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = quote(str(self.model._meta.db_table))
        return f"INSERT INTO {table} ({columns}) VALUES ({marks})", values  # noqa: S608 - names from the model

    def rows(
        self, connection: BaseDatabaseWrapper, instances: Sequence[M], *, alias: str
    ) -> tuple[str, str, list[Any]]:
        """New instances as rows to insert from a `SELECT …, alias.* FROM …, <values>` (the other columns, such
        as a key returned by an earlier statement, left out of these `Columns`): their column names, the
        `(VALUES …) AS alias (names)` clause and its parameters, each value prepared as `insert` prepares it and
        cast to its column's type (text for character columns, which a cast to varchar(n) would cut short)."""
        fields, names, row = self._row_template(connection)
        parameters = [
            f.get_db_prep_save(f.pre_save(instance, True), connection) for instance in instances for f in fields
        ]
        return names, f"(VALUES {', '.join([row] * len(instances))}) AS {alias} ({names})", parameters

    def _row_template(self, connection: BaseDatabaseWrapper) -> tuple[list[Field[Any, Any]], str, str]:
        found = self._templates.get(connection.vendor)
        if found is None:
            quote = connection.ops.quote_name
            fields = [f for f in self.fields if not f.primary_key]
            casts = ["text" if isinstance(f, (CharField, TextField)) else f.db_type(connection) for f in fields]
            found = (
                fields,
                ", ".join(quote(str(f.column)) for f in fields),
                "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")",
            )
            self._templates[connection.vendor] = found
        return found

    def build(self, connection: BaseDatabaseWrapper, values: Sequence[Any]) -> M:
        """The instance of these columns' values (a slice of a row, in `select` order)."""
        converted = list(values)
        for index, (converters, column) in enumerate(self._converters_for(connection)):
            for converter in converters:
                converted[index] = converter(converted[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, converted)
