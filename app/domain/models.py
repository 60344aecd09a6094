"""Imports every table so SQLModel.metadata is complete (Alembic, tests, create_all).

Each area adds its model modules here.
"""
from app.db import metadata
from app.domain import versions as _versions  # noqa: F401 - edit_version
from app.domain.attendance import model as _attendance  # noqa: F401
from app.domain.audit import model as _audit  # noqa: F401
from app.domain.auth import model as _auth  # noqa: F401
from app.domain.calendar import model as _calendar  # noqa: F401
from app.domain.callbacks import model as _callbacks  # noqa: F401
from app.domain.complaints import model as _complaints  # noqa: F401
from app.domain.desk import model as _desk  # noqa: F401
from app.domain.events import model as _events  # noqa: F401
from app.domain.events import tickets as _stream_tickets  # noqa: F401
from app.domain.fees import model as _fees  # noqa: F401
from app.domain.fees.cash import model as _cash  # noqa: F401
from app.domain.fees.channels import model as _channels  # noqa: F401
from app.domain.fees.channels import refund_model as _channel_refunds  # noqa: F401
from app.domain.fees.channels.reconciliation import model as _reconciliation  # noqa: F401
from app.domain.fees.corrections import model as _corrections  # noqa: F401
from app.domain.fees.late_fees import model as _late_fees  # noqa: F401
from app.domain.fees.payments import model as _payments  # noqa: F401
from app.domain.fees.prepaid import model as _prepaid  # noqa: F401
from app.domain.fees.prorate import model as _prorate  # noqa: F401
from app.domain.fees.reports import model as _fee_reports  # noqa: F401
from app.domain.fees.shared_meters import model as _shared_meters  # noqa: F401
from app.domain.fees.waivers import model as _waivers  # noqa: F401
from app.domain.idempotency import model as _idempotency  # noqa: F401
from app.domain.notifications import model as _notifications  # noqa: F401
from app.domain.ratelimit import model as _ratelimit  # noqa: F401
from app.domain.registry import closing as _closing  # noqa: F401 - the closed-estate guard
from app.domain.registry import model as _registry  # noqa: F401
from app.domain.rentals import model as _rentals  # noqa: F401
from app.domain.repairs import model as _repairs  # noqa: F401
from app.domain.repairs.intake import model as _repair_settings  # noqa: F401
from app.domain.repairs.orders import notes_model as _order_notes  # noqa: F401
from app.domain.repairs.orders import owner_code_model as _owner_codes  # noqa: F401
from app.domain.repairs.orders import schedule_model as _schedule  # noqa: F401
from app.domain.repairs.paperwork import model as _paperwork  # noqa: F401
from app.domain.repairs.vouchers import model as _vouchers  # noqa: F401
from app.domain.stock import model as _stock  # noqa: F401
from app.jobs import model as _jobs  # noqa: F401

__all__ = ["metadata"]
