"""The fast novelty filter's index: the pool's instructions as interned token ids, and the bounded search
that finds a candidate's exact top-k ROUGE-L scores while computing very few LCS.

ROUGE-L F is ``2 L / (m + n)`` for an LCS of length ``L`` between token lists of lengths ``m`` and ``n``,
and ``L`` is at most the multiset overlap of the two lists. So:

1. Tokens are interned as integers once, and each pool entry is listed under each of its tokens
   (an inverted index). An entry that shares no token with the candidate scores 0 unseen.
2. The candidate's tokens are looked up rarest first (the rarest few lists in one step). An entry
   not found under any token looked up so far shares at most the ``R`` remaining tokens, so it
   scores at most ``max over m of F(min(R, m), m, n)``. Once that is below the k-th best exact
   score found so far, no unseen entry can enter the top k: the lists of the common tokens ("the",
   "a", "of") are never read. When only common tokens remain and they must be looked at, one pass
   over their dense count columns (uint8 per entry) replaces their long lists.
3. An entry that was found gets its exact overlap with the candidate; only if ``F(overlap)`` can
   reach the k-th best score is its LCS computed: bit-parallel (Allison-Dix / Hyyro), for a batch
   of entries at once, the most promising first so that each batch raises the bar for the rest.
4. Every score comes from a table filled by rouge-score's own ``scoring.fmeasure`` on the same
   Python ints, so scores are float-equal to rouge-score's, not merely close, and ties are broken
   by pool order as the reference does.

``PoolIndex`` owns every array; the filter calls only ``add``, ``top``, ``total_score`` and reads the
``overlaps_counted`` and ``lcs_computed`` counters. ``_Query`` is one search, private to this module.
The module is one piece (past the house's ~400 lines) because the search reads the index's array layout
(padded token rows, dense count columns, stamps) directly: split, that layout would be written in two places.

The bit-parallel LCS needs NumPy 2 (``np.bitwise_count``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import islice
from typing import Any

import numpy as np
from rouge_score import scoring

_WORD = 64  # pool entries up to this many tokens live in the numpy index (one uint64 of LCS state each)
_LANES = np.tile(np.array([255] * 8 + [0], np.uint8), 1 << 16)  # 72-bit lanes: 64 ones, a spare byte
_LOW_BITS = np.array([(1 << m) - 1 for m in range(_WORD + 1)], dtype=np.uint64)  # the low m bits set
_HEAVY_DF = 256  # a token listed under this many entries gets a dense count column
_HEAVY_MAX = 255  # at most this many dense columns (uint8 counts: 255 x 64K entries is 16 MB)
_GROUP = 24  # the rarest tokens are looked up together while their lists hold at most 1/24 of the pool
_GROUP_MIN = 1024  # (or this many entries, in a small pool)
_BATCH = 32  # LCS are computed in batches of at least this many entries, the most promising first
_DENSE_SCAN = 64  # once a token is held by over 1/64 of the pool, scan dense columns instead of lists


def lcs_length(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the longest common subsequence of two sequences, bit-parallel over ``a``.

    Allison-Dix / Hyyro: bit ``i`` of ``v`` is 0 where row ``i`` of the DP table steps up; one pass
    over ``b`` with a few big-int operations per element, instead of a ``len(a) x len(b)`` table.
    """
    if not a or not b:
        return 0
    masks: dict[Any, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def f_measure(lcs: int, prediction_length: int, target_length: int) -> float:
    """rouge-score's ROUGE-L F from an LCS length, with its very float operations (``_score_lcs``)."""
    if not lcs:
        return 0.0
    return scoring.fmeasure(lcs / prediction_length, lcs / target_length)


class _Growable:
    """A numpy array that grows by doubling, for the postings."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: Any, capacity: int = 8) -> None:
        self.data = np.zeros(capacity, dtype=dtype)
        self.size = 0

    def append(self, value: int) -> None:
        """Add one value at the end, doubling the storage when it is full."""
        if self.size == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        """The values appended so far."""
        return self.data[: self.size]


class _Posting:
    """The pool entries holding one token (ascending), with the token's count in each."""

    __slots__ = ("ids", "counts", "column")

    def __init__(self) -> None:
        self.ids = _Growable(np.int32)
        self.counts = _Growable(np.uint8)
        self.column = -1  # its dense count column once the token is common


class _Scores:
    """Score tables for one candidate length ``n``, filled by rouge-score's own arithmetic."""

    def __init__(self, n: int) -> None:
        rows = min(n, _WORD) + 1
        #: ``table[L, m]``: the score of an LCS of L tokens with a pool entry of m tokens.
        self.table = np.zeros((rows, _WORD + 1))
        for m in range(1, _WORD + 1):
            for lcs in range(1, min(rows - 1, m) + 1):
                self.table[lcs, m] = f_measure(lcs, m, n)
            column = self.table[: min(rows - 1, m) + 1, m]
            # The bounds below rely on more common tokens never lowering a score.
            assert np.all(np.diff(column) > 0), f"ROUGE-L F not increasing in the LCS (n={n}, m={m})"
        clipped = np.minimum(np.arange(n + 1)[:, None], np.arange(_WORD + 1)[None, :]).clip(max=rows - 1)
        #: ``unseen[R]``: the best score of any entry that shares at most R tokens with the candidate.
        self.unseen = self.table[clipped, np.arange(_WORD + 1)[None, :]].max(axis=1)


class PoolIndex:
    """The pool's token lists, indexed for the bounded top-k search (entries numbered in pool order).

    ``overlaps_counted`` and ``lcs_computed`` count the (candidate, entry) pairs whose token overlap was
    counted and whose LCS was computed, over every search so far.
    """

    def __init__(self) -> None:
        self.overlaps_counted = 0
        self.lcs_computed = 0
        self._size = 0
        self._vocab: dict[str, int] = {}
        self._postings: list[_Posting] = []
        self._capacity = 1024
        self._lengths = np.zeros(self._capacity, np.int64)
        self._short_lengths = np.zeros(self._capacity, np.uint8)  # the same, as a compact index
        self._tokens = np.full((self._capacity, _WORD), -1, np.int32)  # entries' token ids, padded
        self._stamp = np.zeros(self._capacity, np.int32)  # "already looked at for query number s"
        self._serial = 0
        self._dense = np.zeros((16, self._capacity), np.uint8)  # counts of the common tokens per entry
        self._columns = 0  # rows of _dense in use
        self._long: list[tuple[int, list[int]]] = []  # entries of more than 64 tokens: checked in Python
        self._scores: dict[int, _Scores] = {}

    def __len__(self) -> int:
        return self._size

    def add(self, tokens: Sequence[str]) -> None:
        """Index one more entry (the next in pool order) from its tokens."""
        entry = self._size
        if entry == self._capacity:
            self._grow()
        self._size += 1
        ids = [self._vocab.setdefault(t, len(self._vocab)) for t in tokens]
        while len(self._postings) < len(self._vocab):
            self._postings.append(_Posting())
        self._lengths[entry] = len(ids)
        self._short_lengths[entry] = min(len(ids), 255)
        if len(ids) > _WORD:
            self._long.append((entry, ids))
            return
        self._tokens[entry, : len(ids)] = ids
        for token, count in Counter(ids).items():
            posting = self._postings[token]
            posting.ids.append(entry)
            posting.counts.append(count)
            if posting.column >= 0:
                self._dense[posting.column, entry] = count
            elif posting.ids.size >= _HEAVY_DF and self._columns < _HEAVY_MAX:
                self._make_dense(posting)

    def top(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The exact top ``k`` (entry, score) pairs for a candidate's tokens, best first, ties in pool order."""
        size = self._size
        query = _Query(self, self._ids(tokens), k)
        if tokens and size:
            query.run()
        entries, scores = query.best, query.best_scores
        if len(entries) < min(k, size):
            # Fewer than k entries share a token: the rest of the top k score 0, first in pool order.
            have = set(entries.tolist())
            zeros = list(islice((i for i in range(size) if i not in have), min(k, size) - len(entries)))
            entries = np.concatenate([entries, np.array(zeros, np.int64)])
            scores = np.concatenate([scores, np.zeros(len(zeros))])
        return entries, scores

    def total_score(self, tokens: Sequence[str]) -> float:
        """The candidate's scores summed over every entry: an exact LCS with each entry sharing a token
        (the others score 0)."""
        query = _Query(self, self._ids(tokens), 1)
        lists = [self._postings[t].ids.view() for t in query.counts]
        total = 0.0
        if lists:
            entries = np.unique(np.concatenate(lists)).astype(np.int64)
            if len(entries):
                total += float(query.scores.table[query.lcs(entries), self._lengths[entries]].sum())
        ids = [t for t in query.ids if t >= 0]
        for _, long_ids in self._long:
            total += f_measure(lcs_length(long_ids, ids), len(long_ids), len(query.ids))
        return total

    def _ids(self, tokens: Sequence[str]) -> list[int]:
        """The tokens' ids; -1 for a token no entry holds."""
        return [self._vocab.get(t, -1) for t in tokens]

    def _grow(self) -> None:
        old, self._capacity = self._capacity, 2 * self._capacity
        self._lengths = np.concatenate([self._lengths, np.zeros(old, np.int64)])
        self._short_lengths = np.concatenate([self._short_lengths, np.zeros(old, np.uint8)])
        self._tokens = np.concatenate([self._tokens, np.full((old, _WORD), -1, np.int32)])
        self._stamp = np.concatenate([self._stamp, np.zeros(old, np.int32)])
        self._dense = np.concatenate([self._dense, np.zeros((len(self._dense), old), np.uint8)], axis=1)

    def _make_dense(self, posting: _Posting) -> None:
        if self._columns == len(self._dense):
            self._dense = np.concatenate([self._dense, np.zeros_like(self._dense)])
        posting.column = self._columns
        self._columns += 1
        self._dense[posting.column, posting.ids.view()] = posting.counts.view()

    def _score_table(self, n: int) -> _Scores:
        """The score tables for candidates of ``n`` tokens, made on first use."""
        if n not in self._scores:
            self._scores[n] = _Scores(n)
        return self._scores[n]


class _Query:
    """One candidate against the index: the bounded search of this module's docstring."""

    def __init__(self, index: PoolIndex, ids: list[int], k: int) -> None:
        self.index = index
        self.ids = ids  # the candidate's token ids in order; -1 for a token no entry holds
        self.k = k
        self.scores = index._score_table(len(ids))
        # How often each token may count towards an overlap. No entry in the numpy index holds a token more
        # than _WORD times (longer entries live in ``_long``), so a count clipped there gives the same
        # overlaps, and it fits the uint8 count columns even when a word repeats hundreds of times.
        self.counts = Counter({t: min(c, _WORD) for t, c in Counter(t for t in ids if t >= 0).items()})
        self.distinct = np.array(list(self.counts), np.int32)
        self.best = np.zeros(0, np.int64)  # the best verified entries, best first
        self.best_scores = np.zeros(0)
        self.tau = -np.inf  # the k-th best exact score so far: what a pair must reach to matter
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # (entries, score bounds) awaiting an LCS
        self._need_cache: tuple[float, np.ndarray] | None = None
        self.seen = 0  # entries already looked at (stamped with the index's serial)
        self.batch = max(_BATCH, 2 * k)  # the most promising entries verified first, when there are many

    def run(self) -> None:
        """Fill ``best``/``best_scores`` with the exact top k."""
        index, counts = self.index, self.counts
        size = len(index)
        # Rarest first: their lists are short, and sharing a rare token is what makes a high score.
        order = sorted(counts, key=lambda t: (index._postings[t].ids.size, t))
        remaining = sum(counts.values())  # tokens (with repeats) not looked up yet
        if not order:  # no token of the candidate is in the index
            self._check_long()
            return
        index._serial += 1
        stamp, serial = index._stamp, index._serial
        # The rarest tokens' lists together are short: look them up in one step.
        group, listed, most = 1, index._postings[order[0]].ids.size, max(_GROUP_MIN, size // _GROUP)
        while group < len(order) and listed + index._postings[order[group]].ids.size <= most:
            listed += index._postings[order[group]].ids.size
            group += 1
        postings = [index._postings[t] for t in order[:group]]
        remaining -= sum(counts[t] for t in order[:group])
        if listed:  # (tokens held only by entries of more than 64 tokens have empty lists)
            listed_ids = np.concatenate([p.ids.view() for p in postings])
            held = np.concatenate([np.minimum(p.counts.view(), counts[t])
                                   for p, t in zip(postings, order[:group], strict=True)])
            # Merge the sorted lists (a stable sort merges sorted runs fast), sum each entry's overlap.
            by_entry = listed_ids.argsort(kind="stable")
            listed_ids = listed_ids[by_entry]
            starts = np.flatnonzero(np.concatenate(([True], listed_ids[1:] != listed_ids[:-1])))
            entries = listed_ids[starts]
            stamp[entries] = serial
            self.seen = len(entries)
            self._bound(entries, np.add.reduceat(held[by_entry].astype(np.int64), starts), order[group:], remaining)
        for j in range(group, len(order)):
            token = order[j]
            if not self._may_reach(self.scores.unseen[remaining]):
                break  # no entry outside the lists looked up so far can reach the top k
            posting = index._postings[token]
            if posting.ids.size * _DENSE_SCAN > size and all(index._postings[t].column >= 0 for t in order[j:]):
                # Only common tokens are left: one pass over their dense columns beats their long lists.
                self._scan_dense(order[j:], size)
                break
            entries, held = posting.ids.view(), posting.counts.view()
            new = stamp[entries] != serial  # entries seen under a rarer token are done
            entries, held = entries[new], held[new]
            stamp[entries] = serial
            self.seen += len(entries)
            remaining -= counts[token]
            if len(entries):
                self._bound(entries, np.minimum(held, counts[token]), order[j + 1:], remaining)
        self._verify_pending()
        self._check_long()

    def _may_reach(self, bound: float) -> bool:
        """Whether a pair scoring up to ``bound`` could still enter the top k. First verifies what is
        pending when that could settle the question, or give a first k-th score to prune with."""
        if bound >= self.tau and self.pending:
            optimistic = np.concatenate([self.best_scores, *(b for _, b in self.pending)])
            if len(optimistic) >= self.k and (
                    self.tau == -np.inf or bound < np.partition(optimistic, len(optimistic) - self.k)[-self.k]):
                self._verify_pending()
        return bound >= self.tau

    def _need(self) -> np.ndarray:
        """``need[m]``: the least overlap with which an entry of m tokens can reach tau (255: none can)."""
        if self._need_cache is None or self._need_cache[0] != self.tau:
            reach = self.scores.table[1:] >= self.tau
            need = np.full(256, 255, np.uint8)
            need[: _WORD + 1] = np.where(reach.any(axis=0), reach.argmax(axis=0) + 1, 255)
            self._need_cache = (self.tau, need)
        return self._need_cache[1]

    def _bound(self, entries: np.ndarray, overlap: np.ndarray, later: list[int], remaining: int) -> None:
        """Entries that hold some of the tokens just looked up (``overlap`` with those) and none of the
        rarer ones: their overlap with the whole candidate bounds their score."""
        lengths = self.index._short_lengths[entries]
        overlap = overlap.astype(np.int64)
        if self.tau > -np.inf:  # the cheap bound first: these tokens plus every later one
            alive = overlap + remaining >= self._need()[lengths]
            entries, lengths, overlap = entries[alive], lengths[alive], overlap[alive]
            if not len(entries):
                return
        self._add_pending(entries, self._complete(entries, overlap, later), lengths)

    def _complete(self, entries: np.ndarray, overlap: np.ndarray, later: list[int]) -> np.ndarray:
        """``overlap`` plus the overlap of ``entries`` with the ``later`` tokens: the exact overlap."""
        index = self.index
        index.overlaps_counted += len(entries)
        dense = [t for t in later if index._postings[t].column >= 0]
        if dense:  # one gather for all common tokens
            columns = np.array([index._postings[t].column for t in dense])
            caps = np.array([self.counts[t] for t in dense], np.uint8)
            held = np.take(index._dense.reshape(-1), columns[:, None] * index._capacity + entries[None, :])
            overlap = overlap + np.minimum(held, caps[:, None]).sum(axis=0, dtype=np.int64)
        for t in later:
            if index._postings[t].column < 0:
                overlap = overlap + np.minimum(self._held(t, entries), self.counts[t])
        return overlap

    def _scan_dense(self, tokens: list[int], size: int) -> None:
        """Overlap of every unseen entry with the remaining (common) tokens, from the dense columns."""
        index = self.index
        index.overlaps_counted += size - self.seen
        overlap = np.zeros(size, np.uint8 if sum(self.counts[t] for t in tokens) < 256 else np.int64)
        step = np.empty_like(overlap)
        for t in tokens:
            # (numpy's uint8 minimum is many times faster with two arrays than with a Python int)
            cap = np.full(size, self.counts[t], np.uint8)
            np.minimum(index._dense[index._postings[t].column, :size], cap, out=step)
            overlap += step
        # Few entries reach the least overlap any length needs; only those are looked at one by one.
        entries = np.flatnonzero(overlap >= self._need().min())
        entries = entries[index._stamp[entries] != index._serial]  # the unseen ones among them
        self._add_pending(entries, overlap[entries].astype(np.int64), index._short_lengths[entries])

    def _held(self, token: int, entries: np.ndarray) -> np.ndarray:
        """How often each of ``entries`` (ascending) holds ``token``, from its list."""
        posting = self.index._postings[token]
        ids = posting.ids.view()
        at = np.minimum(np.searchsorted(ids, entries), len(ids) - 1)
        return np.where(ids[at] == entries, posting.counts.view()[at], 0)

    def _add_pending(self, entries: np.ndarray, overlap: np.ndarray, lengths: np.ndarray) -> None:
        """Queue for an LCS the entries whose overlap can reach tau, with their score bounds."""
        keep = overlap >= self._need()[lengths]
        if np.count_nonzero(keep):
            entries, overlap, lengths = entries[keep], overlap[keep], lengths[keep]
            self.pending.append((entries, self.scores.table[np.minimum(overlap, lengths), lengths]))

    def _verify_pending(self) -> None:
        """LCS for the pending entries whose bound can still reach tau: the most promising first, in
        growing batches, so that each batch's scores raise tau and rule out more of the rest."""
        if not self.pending:
            return
        entries = np.concatenate([e for e, _ in self.pending])
        bounds = np.concatenate([b for _, b in self.pending])
        self.pending = []
        batch = self.batch
        while len(entries) > batch:
            first = np.argpartition(-bounds, batch)[:batch]
            self._verify(entries[first][bounds[first] >= self.tau])
            rest = np.ones(len(entries), bool)
            rest[first] = False
            rest &= bounds >= self.tau
            entries, bounds = entries[rest], bounds[rest]
            batch *= 4
        self._verify(entries[bounds >= self.tau])

    def _verify(self, entries: np.ndarray) -> None:
        """Exact LCS of the candidate with each of ``entries`` at once, merged into the top k."""
        if not len(entries):
            return
        self.index.lcs_computed += len(entries)
        self._merge(entries.astype(np.int64), self.scores.table[self.lcs(entries), self.index._lengths[entries]])

    def lcs(self, entries: np.ndarray) -> np.ndarray:
        """LCS length of the candidate with each of ``entries`` (entries of at most 64 tokens).

        Bit-parallel LCS with every entry's 64-bit state in its own 72-bit lane of one Python int:
        ``u = v & mask`` is a subset of ``v``, so ``v - u`` never borrows across lanes and the carry
        of ``v + u`` stops in the lane's spare byte, cleared each step. A few big-int operations per
        candidate token then serve every entry, with none of numpy's per-call cost.
        """
        index = self.index
        lengths = index._lengths[entries]
        width = -(-int(lengths.max()) // 8)  # bytes of token positions to look at
        tokens = index._tokens[entries, : 8 * width]
        # Bit i of masks[d][e] is set where entry e's i-th token is the candidate's d-th distinct token.
        # (packbits is many times faster on a flat array than along an axis.)
        matches = tokens[None, :, :] == self.distinct[:, None, None]
        packed = np.packbits(matches.reshape(-1), bitorder="little").reshape(len(self.distinct), -1, width)
        used = np.count_nonzero(packed.reshape(len(self.distinct), -1), axis=1).tolist()
        lanes = np.zeros((len(self.distinct), len(entries), 9), np.uint8)
        lanes[:, :, :width] = packed
        raw, size = lanes.tobytes(), 9 * len(entries)
        masks = {t: int.from_bytes(raw[d * size:(d + 1) * size], "little")
                 for d, t in enumerate(self.counts) if used[d]}
        keep = int.from_bytes(_LANES[: 9 * len(entries)].tobytes(), "little")
        v = keep
        for t in self.ids:
            mask = masks.get(t)
            if mask is not None:
                u = v & mask
                v = ((v + u) | (v - u)) & keep
        state = np.frombuffer(v.to_bytes(9 * len(entries), "little"), np.uint8).reshape(-1, 9)[:, :8]
        state = np.ascontiguousarray(state).view("<u8")[:, 0]
        return np.bitwise_count(~state & _LOW_BITS[lengths]).astype(np.int64)

    def _merge(self, entries: np.ndarray, found: np.ndarray) -> None:
        if found.max() < self.tau:
            return  # none of them enters the top k
        entries = np.concatenate([self.best, entries])
        found = np.concatenate([self.best_scores, found])
        top = np.lexsort((entries, -found))[: self.k]
        self.best, self.best_scores = entries[top], found[top]
        if len(self.best) == self.k:
            self.tau = float(self.best_scores[-1])

    def _check_long(self) -> None:
        """Entries of more than 64 tokens (rare): a length bound, else an exact big-int LCS."""
        n = len(self.ids)
        ids = [t for t in self.ids if t >= 0]
        for entry, tokens in self.index._long:
            if f_measure(min(n, len(tokens)), len(tokens), n) < self.tau:
                continue
            self.index.lcs_computed += 1
            score = f_measure(lcs_length(tokens, ids), len(tokens), n)
            if score > 0:
                self._merge(np.array([entry], np.int64), np.array([score]))
