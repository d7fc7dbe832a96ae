"""The one demo clinic every in-process test world loads, and the moment its tests run at.

Two clinics: Happy Paws (org-1: an owner, two vets, a nurse, and Olga, the practice owner
with no clinical role) and Other Clinic (org-2); pet owners with appointments around `NOW`.
The real-process suites (tests/e2e) seed parts of it, with times of their own.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from yc_chat.domain.model import UserId

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

FIXTURE: dict[str, Any] = {
    "orgs": [{"id": "org-1", "name": "Happy Paws"}, {"id": "org-2", "name": "Other Clinic"}],
    "users": [
        {"id": "admin-1", "name": "Maya Ortega", "email": "maya@hp.example", "kind": "staff"},
        {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@hp.example", "kind": "staff"},
        {"id": "vet-2", "name": "Tom O'Brien", "email": "tom@hp.example", "kind": "staff"},
        {"id": "nurse-1", "name": "Priya Shah", "email": "priya@hp.example", "kind": "staff"},
        {"id": "owner-org", "name": "Olga Owner", "email": "olga@hp.example", "kind": "staff"},
        {"id": "vet-x", "name": "Kenji Watanabe", "email": "kenji@oc.example", "kind": "staff"},
        {"id": "admin-x", "name": "Sofia Rossi", "email": "sofia@oc.example", "kind": "staff"},
        {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
        {"id": "owner-2", "name": "Jordan Müller", "kind": "pet_owner"},
        {"id": "pet-1", "name": "Sam Lee", "kind": "pet_owner"},
        {"id": "pet-2", "name": "Pat Kim", "kind": "pet_owner"},
    ],
    "memberships": [
        {"orgId": "org-1", "userId": "admin-1", "role": "admin"},
        {"orgId": "org-1", "userId": "vet-1", "role": "vet"},
        {"orgId": "org-1", "userId": "vet-2", "role": "vet"},
        {"orgId": "org-1", "userId": "nurse-1", "role": "nurse"},
        {"orgId": "org-1", "userId": "owner-org", "role": "owner"},
        {"orgId": "org-2", "userId": "vet-x", "role": "vet"},
        {"orgId": "org-2", "userId": "admin-x", "role": "admin"},
    ],
    "appointments": [
        # Opens at 13:55, so pending at NOW.
        {"id": "apt-1", "orgId": "org-1", "petOwnerId": "owner-1", "vetId": "vet-1",
         "startsAt": "2026-01-15T14:00:00Z", "petName": "Rex", "petOwnerName": "Sam Lee"},
        # Opens at 11:58, so active at NOW.
        {"id": "apt-2", "orgId": "org-1", "petOwnerId": "owner-2", "vetId": "vet-2",
         "startsAt": "2026-01-15T12:03:00Z", "petName": "Mochi", "petOwnerName": "Jordan Müller"},
        {"id": "apt-x", "orgId": "org-2", "petOwnerId": "owner-2", "vetId": "vet-x",
         "startsAt": "2026-01-15T12:01:00Z", "petName": "Biscuit", "petOwnerName": "Jordan Müller"},
        # Opens at 11:58, so active at NOW; a second one of the same pair opens at 14:55.
        {"id": "apt-soon", "orgId": "org-1", "petOwnerId": "pet-1", "vetId": "vet-1",
         "startsAt": "2026-01-15T12:03:00Z", "petName": "Rex", "petOwnerName": "Sam Lee"},
        {"id": "apt-later", "orgId": "org-1", "petOwnerId": "pet-1", "vetId": "vet-1",
         "startsAt": "2026-01-15T15:00:00Z", "petName": "Rex", "petOwnerName": "Sam Lee"},
        {"id": "apt-pat", "orgId": "org-1", "petOwnerId": "pet-2", "vetId": "vet-2",
         "startsAt": "2026-01-15T12:00:00Z", "petName": "Tom", "petOwnerName": "Pat Kim"},
        {"id": "apt-other", "orgId": "org-2", "petOwnerId": "pet-2", "vetId": "vet-x",
         "startsAt": "2026-01-15T12:00:00Z", "petName": "Tom", "petOwnerName": "Pat Kim"},
    ],
}  # fmt: skip

APPOINTMENT_IDS = tuple(a["id"] for a in FIXTURE["appointments"])
USER_IDS = tuple(UserId(u["id"]) for u in FIXTURE["users"])


def fixture_at(now: datetime) -> dict[str, Any]:
    """The demo clinic with every appointment as far from `now` as it is from `NOW`: for a
    real process, whose clock cannot be fixed."""
    shift = now - NOW
    fixture = copy.deepcopy(FIXTURE)
    for appointment in fixture["appointments"]:
        starts = datetime.fromisoformat(appointment["startsAt"].replace("Z", "+00:00"))
        appointment["startsAt"] = (starts + shift).isoformat()
    return fixture
