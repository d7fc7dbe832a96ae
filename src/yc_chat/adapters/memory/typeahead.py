"""An org's typeahead index: answers in ranking order at a cost that grows with `limit`.

Every folded key form of every member (name words, whole name, spelled name, email) is
one entry, sorted by form, so the entries a query's prefix matches are one contiguous
range (two bisects). Each entry carries its place in the contract's ranking for any query
it matches: whole-name forms rank before the rest, then by (folded name, user id). A
min-segment tree over those places hands out the range's entries best-first, so a query
touches about `limit` entries (times a member's few forms, for duplicates) and
O(log n) tree nodes per answer, whatever the number of matches or the size of the org.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator, Mapping

from yc_chat.domain.model import UserId
from yc_chat.domain.text import SearchKeys, SearchQuery


class TypeaheadIndex:
    """Immutable once built; `LiveTypeahead` keeps an org's changes beside it."""

    def __init__(self, keys: Mapping[UserId, SearchKeys]) -> None:
        by_name = sorted(keys, key=lambda uid: (keys[uid].joined, uid))
        self._users = by_name
        self._joined = [keys[uid].joined for uid in by_name]
        rank = {uid: place for place, uid in enumerate(by_name)}
        # A whole-name form ranks in class 0, any other in class 1 (place + offset).
        offset = len(by_name)
        forms: list[str] = []
        values: list[int] = []
        for uid, key in keys.items():
            place = rank[uid]
            for form, cls in forms_of(key):
                forms.append(form)
                values.append(place + offset * cls)
        order = sorted(range(len(forms)), key=forms.__getitem__)
        self._forms = [forms[i] for i in order]
        # levels[0] are the entries' values in form order; each level above holds the
        # minimum of each pair below it, up to a single root.
        leaves = [values[i] for i in order]
        leaves.extend([_NONE] * (_power_of_two(len(leaves)) - len(leaves)))
        levels = [leaves]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append(list(map(min, below[0::2], below[1::2])))
        self._levels = levels
        self._offset = offset

    def search(
        self, query: SearchQuery, *, limit: int, keep: Callable[[UserId], bool]
    ) -> list[UserId]:
        """The first `limit` matching users that `keep` accepts, in ranking order."""
        # `ranked` inlined: this is every unchanged org's search, on the request path.
        found: list[UserId] = []
        seen: set[int] = set()
        offset = self._offset
        for value in self._best_first(query.folded):
            place = value - offset if value >= offset else value
            if place in seen:
                continue
            seen.add(place)
            uid = self._users[place]
            if keep(uid):
                found.append(uid)
                if len(found) >= limit:
                    break
        return found

    def ranked(self, prefix: str) -> Iterator[Rank]:
        """Every user with a form starting with `prefix`, once, as their ranking key
        (class, joined name, user id), best first."""
        seen: set[int] = set()
        for value in self._best_first(prefix):
            whole = value < self._offset
            place = value if whole else value - self._offset
            if place in seen:
                continue  # a better form of theirs came first
            seen.add(place)
            yield (0 if whole else 1, self._joined[place], self._users[place])

    def _best_first(self, prefix: str) -> Iterator[int]:
        """The values of the entries whose form starts with `prefix`, smallest first."""
        lo = bisect.bisect_left(self._forms, prefix)
        after = _successor(prefix)
        hi = len(self._forms) if after is None else bisect.bisect_left(self._forms, after, lo)
        levels = self._levels
        # The O(log n) subtrees that exactly cover [lo, hi), as (minimum, level, index).
        heap: list[tuple[int, int, int]] = []
        level = 0
        while lo < hi:
            if lo & 1:
                heap.append((levels[level][lo], level, lo))
                lo += 1
            if hi & 1:
                hi -= 1
                heap.append((levels[level][hi], level, hi))
            lo >>= 1
            hi >>= 1
            level += 1
        heapq.heapify(heap)
        while heap:
            value, level, index = heapq.heappop(heap)
            # Walk down to the leaf holding this minimum; the other child of every step
            # waits in the heap.
            while level:
                level -= 1
                index *= 2
                row = levels[level]
                if row[index] != value:
                    index += 1
                sibling = index ^ 1
                if row[sibling] != _NONE:
                    heapq.heappush(heap, (row[sibling], level, sibling))
            yield value


# A match's place in the contract's ranking (SearchKeys.rank): 0 for a whole-name form.
Rank = tuple[int, str, UserId]


def forms_of(keys: SearchKeys) -> list[tuple[str, int]]:
    """Every form of one user with its class: whole-name forms 0, other words and email 1."""
    whole = {keys.joined, keys.spelled}
    rest = {*keys.words, *([keys.email] if keys.email else [])} - whole
    return [(form, 0) for form in whole] + [(form, 1) for form in rest]


class LiveTypeahead:
    """An org's typeahead kept right as members change, without rebuilding on each change.

    A TypeaheadIndex built once (at load) answers for the members it was built with; the
    members added, renamed or gone since are kept beside it: the changed ones are skipped
    in its answers, and the added or renamed ones are searched in a sorted list of their
    forms, merged in ranking order. Past `rebuild_after` changes the caller builds a new
    one (`stale`), so that list stays short.
    """

    def __init__(self, keys: Mapping[UserId, SearchKeys], *, rebuild_after: int) -> None:
        self._base = TypeaheadIndex(keys)
        self._changed: set[UserId] = set()  # skipped in the base's answers
        self._extra: dict[UserId, SearchKeys] = {}
        self._forms: list[tuple[str, UserId, int]] = []  # (form, user, class), sorted
        self._rebuild_after = rebuild_after

    @property
    def stale(self) -> bool:
        """Whether enough changed that a rebuild is due."""
        return len(self._changed) > self._rebuild_after

    def put(self, user_id: UserId, keys: SearchKeys) -> None:
        """A member added, or renamed (new name or email)."""
        self.remove(user_id)
        self._extra[user_id] = keys
        for form, cls in forms_of(keys):
            bisect.insort(self._forms, (form, user_id, cls))

    def remove(self, user_id: UserId) -> None:
        """A member gone."""
        self._changed.add(user_id)
        old = self._extra.pop(user_id, None)
        if old is None:
            return
        for form, cls in forms_of(old):
            entry = (form, user_id, cls)
            at = bisect.bisect_left(self._forms, entry)
            if at < len(self._forms) and self._forms[at] == entry:
                del self._forms[at]

    def search(
        self, query: SearchQuery, *, limit: int, keep: Callable[[UserId], bool]
    ) -> list[UserId]:
        """The first `limit` matching members that `keep` accepts, in ranking order."""
        if not self._changed:
            return self._base.search(query, limit=limit, keep=keep)
        prefix = query.folded
        changed = self._changed
        base = (rank for rank in self._base.ranked(prefix) if rank[2] not in changed)
        found: list[UserId] = []
        for _, _, uid in heapq.merge(base, self._extra_ranked(prefix)):
            if keep(uid):
                found.append(uid)
                if len(found) >= limit:
                    break
        return found

    def _extra_ranked(self, prefix: str) -> list[Rank]:
        best: dict[UserId, int] = {}
        forms = self._forms
        for at in range(bisect.bisect_left(forms, (prefix,)), len(forms)):
            form, uid, cls = forms[at]
            if not form.startswith(prefix):
                break
            if cls < best.get(uid, 2):
                best[uid] = cls
        return sorted((cls, self._extra[uid].joined, uid) for uid, cls in best.items())


# Padding leaves of the tree: larger than any place.
_NONE = 1 << 62
_LAST_CODE_POINT = 0x10FFFF


def _successor(prefix: str) -> str | None:
    """The smallest string after every string starting with `prefix` (None: no such string)."""
    stem = prefix
    while stem and ord(stem[-1]) == _LAST_CODE_POINT:
        stem = stem[:-1]
    if not stem:
        return None
    return stem[:-1] + chr(ord(stem[-1]) + 1)


def _power_of_two(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return size
