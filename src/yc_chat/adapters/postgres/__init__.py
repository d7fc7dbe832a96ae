"""Every store port on PostgreSQL (SQLAlchemy Core, asyncpg): `open_postgres_stores(url)`.

```python
stores = await open_postgres_stores("postgresql://chat@db/yc_chat")
try:
    ...  # stores.directory, stores.member_reads, stores.appointments, stores.inbox, ...
finally:
    await stores.close()
```

The schema is Alembic's (migrations shipped in `migrations/`; `yc-chat db upgrade`), with
the tables and indexes declared in `schema.py`. Once-only effects rest on primary keys and
unique constraints, inbox leases on `FOR UPDATE SKIP LOCKED`, channel locks on a lock table
with expiry, expiries on plain deletes by indexed columns; no process-local locks.
Rows become domain records (attrs) in `records.py`; no ORM objects.
"""

from yc_chat.adapters.postgres.appointments import PostgresAppointments
from yc_chat.adapters.postgres.channel_locks import PostgresChannelLocks
from yc_chat.adapters.postgres.devices import PostgresDevices
from yc_chat.adapters.postgres.directory import PostgresDirectory
from yc_chat.adapters.postgres.effect_claims import PostgresEffectClaims
from yc_chat.adapters.postgres.fingerprints import PostgresFingerprints
from yc_chat.adapters.postgres.inbox import PostgresEventInbox
from yc_chat.adapters.postgres.member_reads import PostgresMemberReads
from yc_chat.adapters.postgres.migrate import (
    SchemaBehind,
    current_revision,
    head_revision,
    require_current,
    upgrade,
)
from yc_chat.adapters.postgres.settings import PostgresOptions
from yc_chat.adapters.postgres.stores import (
    PostgresStores,
    create_engine,
    open_postgres_stores,
    stores_on,
    upgrade_url,
)

__all__ = [
    "PostgresAppointments",
    "PostgresChannelLocks",
    "PostgresDevices",
    "PostgresDirectory",
    "PostgresEffectClaims",
    "PostgresEventInbox",
    "PostgresFingerprints",
    "PostgresMemberReads",
    "PostgresOptions",
    "PostgresStores",
    "SchemaBehind",
    "create_engine",
    "current_revision",
    "head_revision",
    "open_postgres_stores",
    "require_current",
    "stores_on",
    "upgrade",
    "upgrade_url",
]
