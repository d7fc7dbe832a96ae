"""Roles and permissions as Stream's API manages them (server-side): ListRoles, CreateRole,
DeleteRole; ListPermissions, GetPermission, CreatePermission, UpdatePermission,
DeletePermission.

Built-in roles and permissions are listed and cannot be changed or deleted. A custom role
can be named in a channel type's grants and given to users; it cannot be deleted while a
user has it or a type's grants name it. A custom permission (`custom_permissions`) grants
its action where a role is granted its id; it cannot be deleted while granted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from stream_emulator.state import payloads, permissions
from stream_emulator.state.custom_permissions import CustomPermission, check_condition
from stream_emulator.state.errors import does_not_exist, input_error
from stream_emulator.state.store import Store

BUILT_IN_ROLES: Final = frozenset(
    {*permissions.DEFAULT_GRANTS, "guest", "anonymous", "channel_moderator", "channel_member"}
)
NAME_PATTERN: Final = re.compile(r"^[a-z0-9_-]{1,64}\Z")
# Every action a permission may be for: the built-in permissions' actions.
ACTIONS: Final = {
    permissions.permission_id(action): action
    for action in {
        "".join(part.title() for part in pid.removesuffix("-owner").split("-"))
        for pid in permissions.KNOWN_PERMISSIONS
    }
}
_PERMISSION_FIELDS: Final = frozenset(
    {"id", "name", "action", "description", "owner", "same_team", "condition"}
)


class AccessControlOperations:
    """Mixed into `StreamState`; every operation raises `StreamAPIError`."""

    _store: Store

    def list_roles(self) -> list[dict[str, object]]:
        """ListRoles: built-in roles, then the app's own."""
        self._store.faults.gate()
        created = payloads.format_time(self._store.now())
        roles = [
            {
                "name": name,
                "custom": False,
                "scopes": [],
                "created_at": created,
                "updated_at": created,
            }
            for name in sorted(BUILT_IN_ROLES)
        ]
        for name, when in self._store.custom_roles.items():
            at = payloads.format_time(when)
            roles.append(
                {
                    "name": name,
                    "custom": True,
                    "scopes": self._types_granting(name),
                    "created_at": at,
                    "updated_at": at,
                }
            )
        return roles

    def create_role(self, name: object) -> dict[str, object]:
        """CreateRole: a new custom role."""
        endpoint = "CreateRole"
        self._store.faults.gate()
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise input_error(endpoint, "name must be 1 to 64 characters of a-z, 0-9, _ and -")
        if name in BUILT_IN_ROLES or name in self._store.custom_roles:
            raise input_error(endpoint, f"role {name} already exists")
        now = self._store.now()
        self._store.custom_roles[name] = now
        at = payloads.format_time(now)
        return {"name": name, "custom": True, "scopes": [], "created_at": at, "updated_at": at}

    def delete_role(self, name: str) -> None:
        """DeleteRole: a custom role no user has and no grants name."""
        endpoint = "DeleteRole"
        self._store.faults.gate()
        if name in BUILT_IN_ROLES:
            raise input_error(endpoint, f"role {name} is built in and cannot be deleted")
        if name not in self._store.custom_roles:
            raise does_not_exist(endpoint, f"role {name} does not exist")
        if any(user.role == name for user in self._store.users.values()):
            raise input_error(endpoint, f"role {name} is assigned to users")
        if self._types_granting(name):
            raise input_error(endpoint, f"role {name} is named in channel type grants")
        del self._store.custom_roles[name]

    def list_permissions(self) -> list[dict[str, object]]:
        """ListPermissions: the app's custom permissions, then the built-in ones."""
        self._store.faults.gate()
        custom = [p.as_json() for p in self._store.custom_permissions.values()]
        return custom + [_built_in(pid) for pid in sorted(permissions.KNOWN_PERMISSIONS)]

    def get_permission(self, permission_id: str) -> dict[str, object]:
        """GetPermission: a custom or built-in permission."""
        self._store.faults.gate()
        found = self._store.custom_permissions.get(permission_id)
        if found is not None:
            return found.as_json()
        if permission_id in permissions.KNOWN_PERMISSIONS:
            return _built_in(permission_id)
        raise does_not_exist("GetPermission", f"permission {permission_id} does not exist")

    def create_permission(self, body: Mapping[str, object]) -> None:
        """CreatePermission: a custom permission (its id not taken)."""
        endpoint = "CreatePermission"
        self._store.faults.gate()
        permission_id = body.get("id")
        if not isinstance(permission_id, str) or not NAME_PATTERN.match(permission_id):
            raise input_error(endpoint, "id must be 1 to 64 characters of a-z, 0-9, _ and -")
        if (
            permission_id in permissions.KNOWN_PERMISSIONS
            or permission_id in self._store.custom_permissions
        ):
            raise input_error(endpoint, f"permission {permission_id} already exists")
        now = self._store.now()
        self._store.custom_permissions[permission_id] = _permission(
            endpoint, body, permission_id, now, now
        )

    def update_permission(self, permission_id: str, body: Mapping[str, object]) -> None:
        """UpdatePermission: replace a custom permission's fields (not its id)."""
        endpoint = "UpdatePermission"
        self._store.faults.gate()
        current = self._custom(endpoint, permission_id)
        if body.get("id", permission_id) != permission_id:
            raise input_error(endpoint, "a permission's id cannot change")
        self._store.custom_permissions[permission_id] = _permission(
            endpoint, body, permission_id, current.created_at, self._store.now()
        )

    def delete_permission(self, permission_id: str) -> None:
        """DeletePermission: a custom permission no grants name."""
        endpoint = "DeletePermission"
        self._store.faults.gate()
        self._custom(endpoint, permission_id)
        for name, kind in self._store.channel_types.items():
            if any(permission_id in kind.grants.role(r) for r in kind.grants.replaced):
                raise input_error(endpoint, f"permission {permission_id} is granted in {name}")
        del self._store.custom_permissions[permission_id]

    def _custom(self, endpoint: str, permission_id: str) -> CustomPermission:
        found = self._store.custom_permissions.get(permission_id)
        if found is not None:
            return found
        if permission_id in permissions.KNOWN_PERMISSIONS:
            raise input_error(endpoint, f"permission {permission_id} is built in")
        raise does_not_exist(endpoint, f"permission {permission_id} does not exist")

    def _types_granting(self, role: str) -> list[str]:
        return sorted(
            name for name, kind in self._store.channel_types.items() if role in kind.grants.replaced
        )


def _permission(
    endpoint: str,
    body: Mapping[str, object],
    permission_id: str,
    created: datetime,
    now: datetime,
) -> CustomPermission:
    unknown = sorted(set(body) - _PERMISSION_FIELDS)
    if unknown:
        raise input_error(endpoint, f"permission fields not modelled: {', '.join(unknown)}")
    name, action = body.get("name"), body.get("action")
    if not isinstance(name, str) or not name:
        raise input_error(endpoint, "name is required")
    if not isinstance(action, str) or ACTIONS.get(permissions.permission_id(action)) != action:
        raise input_error(endpoint, f"action {action!r} is not one Stream knows")
    flags = {key: body.get(key, False) for key in ("owner", "same_team")}
    if not all(isinstance(value, bool) for value in flags.values()):
        raise input_error(endpoint, "owner and same_team must be booleans")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise input_error(endpoint, "description must be a string")
    if "condition" not in body:
        raise input_error(endpoint, "condition is required")
    return CustomPermission(
        id=permission_id,
        name=name,
        action=action,
        description=description,
        owner=bool(flags["owner"]),
        same_team=bool(flags["same_team"]),
        condition=check_condition(endpoint, body["condition"]),
        created_at=created,
        updated_at=now,
    )


def _built_in(permission_id: str) -> dict[str, object]:
    """A built-in permission as Stream's `Permission`."""
    base = permission_id.removesuffix("-owner")
    return {
        "id": permission_id,
        "name": base.replace("-", " ").capitalize(),
        "description": "",
        "action": ACTIONS.get(base, base),
        "owner": permission_id.endswith("-owner"),
        "same_team": False,
        "custom": False,
        "level": "channel",
        "owner_resource": "Channel",
        "tags": [],
    }
