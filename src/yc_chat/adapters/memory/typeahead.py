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
    """Immutable once built; the directory rebuilds it after its org changes."""

    def __init__(self, keys: Mapping[UserId, SearchKeys]) -> None:
        by_name = sorted(keys, key=lambda uid: (keys[uid].joined, uid))
        self._users = by_name
        rank = {uid: place for place, uid in enumerate(by_name)}
        # A whole-name form ranks in class 0, any other in class 1 (place + offset).
        offset = len(by_name)
        forms: list[str] = []
        values: list[int] = []
        for uid, key in keys.items():
            place = rank[uid]
            whole = {key.joined, key.spelled}
            for form in whole:
                forms.append(form)
                values.append(place)
            for form in {*key.words, *([key.email] if key.email else [])} - whole:
                forms.append(form)
                values.append(offset + place)
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
        found: list[UserId] = []
        seen: set[int] = set()
        for value in self._best_first(query.folded):
            place = value - self._offset if value >= self._offset else value
            if place in seen:
                continue
            seen.add(place)
            uid = self._users[place]
            if keep(uid):
                found.append(uid)
                if len(found) >= limit:
                    break
        return found

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
