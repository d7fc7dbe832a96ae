"""Push devices on PostgreSQL: the token is the primary key, so it has exactly one owner."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import storable, storable_all, store_errors
from yc_chat.adapters.postgres.schema import DEVICE_ORDER, DEVICES
from yc_chat.domain.model import Device, UserId

D = DEVICES.c


class PostgresDevices:
    """DeviceRegistry on chat_devices; registering upserts the token onto its new owner."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # One statement per read, so no transaction around it: no BEGIN/COMMIT round trips.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    @store_errors
    async def register(self, device: Device, *, keep: int | None = None) -> None:
        order = DEVICE_ORDER.next_value()
        statement = insert(DEVICES).values(
            token=device.token, user_id=device.user_id, platform=device.platform, registered=order
        )
        async with self._engine.begin() as conn:
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[D.token],
                    set_={
                        "user_id": device.user_id,
                        "platform": device.platform,
                        "registered": order,
                    },
                )
            )
            if keep is not None:
                stale = (
                    sa.select(D.token)
                    .where(D.user_id == device.user_id)
                    .order_by(D.registered.desc())
                    .offset(max(keep, 0))
                )
                await conn.execute(sa.delete(DEVICES).where(D.token.in_(stale.scalar_subquery())))

    @store_errors
    async def unregister(self, user_id: UserId, token: str) -> bool:
        if not (storable(user_id) and storable(token)):
            return False
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(DEVICES).where(D.token == token, D.user_id == user_id)
            )
        return result.rowcount == 1

    @store_errors
    async def devices_of(self, user_ids: Collection[UserId]) -> Sequence[Device]:
        ids = storable_all(user_ids)
        if not ids:
            return []
        async with self._reads.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(D.user_id, D.token, D.platform)
                    .where(D.user_id.in_(ids))
                    .order_by(D.token)
                )
            ).all()
        return [Device(user_id=UserId(r.user_id), token=r.token, platform=r.platform) for r in rows]

    @store_errors
    async def forget_token(self, token: str) -> None:
        if not storable(token):
            return
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(DEVICES).where(D.token == token))
