"""A mypy plugin that types SQLModel columns the way SQLAlchemy sees them.

SQLModel declares a table's columns as plain annotations (`amount: Decimal`), which is what an
instance holds. On the class, though, SQLAlchemy replaces each field by an InstrumentedAttribute,
so `Charge.amount == x` builds a SQL expression, `Charge.unit_id.in_(ids)` exists and
`select(Charge.amount)` is a `Select[tuple[Decimal]]`. Without this plugin mypy reads
`Charge.amount` as a Decimal and reports every query as an error (about a thousand, in app/),
which would take an ignore on nearly every query. Here the noise is handled once:

- a field read on the class of a SQLModel subclass is `InstrumentedAttribute[<field type>]`;
  on a subclass that is not a table the attribute does not exist at run time, so the only
  such reads that run are through a `type[Mixin]` that holds a table class, as in
  `by_id_in_estate(model: type[EstateScoped], ...)`;
- a class declared with `table=True` has `__table__: ClassVar[Table]`.

Instances, methods, properties, class variables and assignments keep their declared types.
"""
from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import ClassDef, NameExpr, TypeInfo, Var
from mypy.plugin import AttributeContext, ClassDefContext, Plugin
from mypy.plugins.common import add_attribute_to_class
from mypy.types import Instance, Type

SQLMODEL = "sqlmodel.main.SQLModel"
INSTRUMENTED = "sqlalchemy.orm.attributes.InstrumentedAttribute"
TABLE = "sqlalchemy.sql.schema.Table"


class SQLModelPlugin(Plugin):
    def _model(self, fullname: str) -> TypeInfo | None:
        """The SQLModel subclass (SQLModel itself excluded) that `fullname` names, if any."""
        sym = self.lookup_fully_qualified(fullname)
        if sym is None or not isinstance(sym.node, TypeInfo):
            return None
        info = sym.node
        return info if info.fullname != SQLMODEL and info.has_base(SQLMODEL) else None

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, name = fullname.rpartition(".")
        if name.startswith("_") or not owner:
            return None
        info = self._model(owner)
        if info is None:
            return None
        sym = info.get(name)
        if sym is None or not isinstance(sym.node, Var):
            return None
        var = sym.node
        if var.is_classvar or var.is_property or var.info.fullname == SQLMODEL or not var.info.has_base(SQLMODEL):
            return None
        attribute = self.lookup_fully_qualified(INSTRUMENTED)
        if attribute is None or not isinstance(attribute.node, TypeInfo):
            return None
        return _column(attribute.node)

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        # Called with the class's own name once its MRO is known (the base class hook would do
        # too, but mypy runs only the first plugin's, and pydantic.mypy claims it for models).
        return _add_table if self._model(fullname) is not None else None


def _column(attribute: TypeInfo) -> Callable[[AttributeContext], Type]:
    def hook(ctx: AttributeContext) -> Type:
        if ctx.is_lvalue:
            return ctx.default_attr_type
        return Instance(attribute, [ctx.default_attr_type])

    return hook


def _is_table(cls: ClassDef) -> bool:
    flag = cls.keywords.get("table")
    return isinstance(flag, NameExpr) and flag.fullname == "builtins.True"


def _add_table(ctx: ClassDefContext) -> None:
    if not _is_table(ctx.cls) or "__table__" in ctx.cls.info.names:
        return
    table = ctx.api.named_type_or_none(TABLE)
    if table is None:
        ctx.api.defer()
        return
    add_attribute_to_class(ctx.api, ctx.cls, "__table__", table, is_classvar=True)


def plugin(version: str) -> type[Plugin]:
    return SQLModelPlugin
