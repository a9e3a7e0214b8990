"""The message store behind one SQS queue: visibility, delay, retention, FIFO groups.

Built for million-message backlogs: every operation costs what it returns or
touches, amortized, never the size of the queue.

Structures (all hold references to ``StoredMessage``; a message that leaves
one structure early is left in place as a stale entry and skipped later, a
"lazy delete"; when stale entries outnumber live ones a structure is rebuilt,
so memory stays proportional to the live messages):

- ``_live``: seq -> message, in send order (``messages()``, receipt handles).
- ``_arrivals``: deque in arrival order. Its head is the oldest message
  (``ApproximateAgeOfOldestMessage``) and, because every message's retention
  clock starts on arrival, also the next to expire. The one exception,
  messages moved into a standard dead-letter queue (they keep their original
  enqueue time), also goes into the small ``_early`` heap.
- ``_pending``: delayed and in-flight messages by the time they become
  visible, bucketed: one list of messages per distinct instant and a heap of
  the instants. A receive puts its whole batch in one bucket (one dict lookup,
  then a list append per message; no entry object, no timer per message).
  Moved to visible lazily, at the start of every operation (``advance``),
  which costs one comparison while nothing is due.
- ``_by_handle``: each live message's latest receipt handle -> the message,
  so a delete or visibility change finds its message without decoding.
- Standard queues: ``_visible``, a deque ordered by (visible since, seq).
  A receive pops from its head.
- FIFO queues: ``_groups`` (group id -> the group's messages in order and
  its in-flight count) and ``_ready``, a heap of groups that can be received
  from (nothing in flight, head visible), keyed by their head's seq. A receive
  takes the oldest ready group, as many of its messages as it can, then the
  next group, as SQS does.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from ._sqs_message import DELAYED, GONE, INFLIGHT, VISIBLE, StoredMessage

__all__ = ("MessageStore",)

# Visibility times are float epoch seconds; the loop maps them onto its own
# clock and back, which can cost a few ulps. A message due within this margin
# counts as due, so a poller that sleeps until next_visible_at() always finds it.
_EPSILON = 1e-6
_COMPACT_SLACK = 1024
_COMPACT_EVERY_MASK = 255  # look at the stale-entry counts every 256 operations
_HANDLE_PREFIX = b"\x01\x01\x01"  # real receipt handles start with "AQEB"
_HANDLE_RANDOM_BYTES = 21
_HANDLE_LENGTH = len(_HANDLE_PREFIX) + 6 + 8 + 4 + _HANDLE_RANDOM_BYTES
# A handle is the base64 of 42 bytes = 336 bits, read as one big-endian
# integer: prefix and queue key on top, then seq (64 bits at 200), receive
# number (32 bits at 168) and 168 random bits. 42 is a multiple of 3, so the
# base64 text of several handles laid end to end is their texts laid end to
# end (56 characters each): a receive encodes all its handles at once.
_HANDLE_BITS = 8 * _HANDLE_LENGTH
_HANDLE_CHARS = _HANDLE_LENGTH // 3 * 4
_RANDOM_BITS = 8 * _HANDLE_RANDOM_BYTES
_MAX_RECEIVE_IN_HANDLE = 0xFFFFFFFF
_b2a = binascii.b2a_base64


def _pending_valid(msg: StoredMessage, when: float) -> bool:
    """True while ``msg``, found in the bucket of ``when``, is still due to appear then.

    A message rescheduled (visibility change), received, deleted or made
    visible since stays in its old bucket as a stale entry. A message can sit in
    one bucket twice (rescheduled away and back); once the first copy made it
    visible the second one is stale by its state.
    """
    return msg.visible_at == when and (msg.state == DELAYED or msg.state == INFLIGHT)


def _seq(msg: StoredMessage) -> int:
    return msg.seq


class _Pending:
    """Delayed and in-flight messages by the instant they become visible.

    One bucket (a list) per distinct instant, and a heap of the instants.
    Entries are never removed early: a stale one is skipped when its bucket
    comes due (see ``_pending_valid``). ``due`` is never later than the
    earliest instant with a bucket, so "nothing due yet" is one comparison.
    """

    __slots__ = ("_buckets", "_times", "due", "entries")

    def __init__(self) -> None:
        self._buckets: dict[float, list[StoredMessage]] = {}
        self._times: list[float] = []
        self.due = math.inf
        self.entries = 0  # bucket entries, stale ones included (for compaction)

    def __len__(self) -> int:
        return self.entries

    def bucket(self, when: float) -> list[StoredMessage]:
        """The list to append the messages that become visible at ``when`` to."""
        bucket = self._buckets.get(when)
        if bucket is None:
            bucket = self._buckets[when] = []
            heapq.heappush(self._times, when)
            if when < self.due:
                self.due = when
        return bucket

    def pop_due(self, limit: float) -> list[StoredMessage] | None:
        """The still-valid messages of the earliest bucket due by ``limit``, in seq order.

        None when no bucket is due (``due`` is then exact again). Seq order
        within an instant is what an ordered index of (time, seq) gave, so
        messages that reappear together are received in send order.
        """
        times = self._times
        while times:
            when = times[0]
            if when > limit:
                self.due = when
                return None
            heapq.heappop(times)
            bucket = self._buckets.pop(when, None)
            if bucket is None:
                continue
            self.entries -= len(bucket)
            valid = [m for m in bucket if _pending_valid(m, when)]
            if valid:
                if len(valid) > 1:
                    valid.sort(key=_seq)
                return valid
        self.due = math.inf
        return None

    def head(self) -> float | None:
        """The earliest instant at which a message still becomes visible, or None."""
        times, buckets = self._times, self._buckets
        while times:
            when = times[0]
            bucket = buckets.get(when)
            if bucket is not None:
                # Drop the stale entries in front, so repeated calls stay cheap.
                for index, msg in enumerate(bucket):
                    if _pending_valid(msg, when):
                        if index:
                            del bucket[:index]
                            self.entries -= index
                        return when
                del buckets[when]
                self.entries -= len(bucket)
            heapq.heappop(times)
        self.due = math.inf
        return None

    def clear(self) -> None:
        self._buckets.clear()
        self._times.clear()
        self.due = math.inf
        self.entries = 0

    def compact(self) -> None:
        """Drop every stale entry."""
        kept: dict[float, list[StoredMessage]] = {}
        for when, bucket in self._buckets.items():
            # _pending_valid, inlined: this looks at every stale entry once.
            live = [
                m
                for m in bucket
                if m.visible_at == when and (m.state == DELAYED or m.state == INFLIGHT)
            ]
            if live:
                kept[when] = live
        self._buckets = kept
        self._times = list(kept)
        heapq.heapify(self._times)
        self.entries = sum(len(bucket) for bucket in kept.values())
        self.due = self._times[0] if self._times else math.inf


class _Group:
    """A FIFO message group: its messages in order, and how many are in flight."""

    __slots__ = ("gid", "inflight", "live", "messages", "ready_seq")

    def __init__(self, gid: str) -> None:
        self.gid = gid
        self.messages: deque[StoredMessage] = deque()
        self.inflight = 0
        self.live = 0
        self.ready_seq = -1

    def clean_head(self) -> None:
        messages = self.messages
        while messages and messages[0].state == GONE:
            messages.popleft()


class MessageStore:
    """Messages of one queue and the rules of SQS that concern only them.

    Args:
        fifo: FIFO semantics (group locking, ordered groups) or standard.
        retention_ms: ``MessageRetentionPeriod`` in milliseconds.
        handle_key: 6 bytes that tie receipt handles to this queue.
        handle_rng: the seeded generator for the random part of handles.
    """

    def __init__(
        self, *, fifo: bool, retention_ms: int, handle_key: bytes, handle_rng: random.Random
    ) -> None:
        if len(handle_key) != 6:
            raise ValueError("handle_key must be 6 bytes")
        self.fifo = fifo
        self.retention_ms = retention_ms
        self._handle_key = handle_key
        self._handle_top = int.from_bytes(_HANDLE_PREFIX + handle_key, "big") << 264
        self._handle_bits = handle_rng.getrandbits
        # [n]: for n handles laid end to end, the prefix and key of each, and a
        # mask of their random bits.
        self._handle_tops = [0]
        self._handle_masks = [0]
        self._live: dict[int, StoredMessage] = {}
        self._by_handle: dict[str, StoredMessage] = {}
        self._next_seq = 1
        self._arrivals: deque[StoredMessage] = deque()
        self._early: list[tuple[int, int, StoredMessage]] = []
        self._visible: deque[StoredMessage] = deque()
        self._pending = _Pending()
        self._groups: dict[str, _Group] = {}
        self._ready: list[tuple[int, str]] = []
        self.n_visible = 0
        self.n_inflight = 0
        self.n_delayed = 0
        self.groups_inflight = 0
        self._ops = 0

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[StoredMessage]:
        """Every live message, in send order."""
        return iter(list(self._live.values()))

    @property
    def next_seq(self) -> int:
        """The seq the next message will get (every smaller one was issued)."""
        return self._next_seq

    def get(self, seq: int) -> StoredMessage | None:
        """The live message with this seq, or None."""
        return self._live.get(seq)

    def by_handle(self, handle: str) -> StoredMessage | None:
        """The live message whose latest receipt handle is ``handle``, or None."""
        return self._by_handle.get(handle)

    def remove_handles(self, handles: Iterable[str]) -> tuple[int, bool]:
        """Remove the live messages whose latest receipt handles these are.

        Returns how many went and whether one of them unlocked a FIFO group
        (was in flight). Stale or unknown handles are skipped.
        """
        get, remove = self._by_handle.get, self.remove
        removed = 0
        unlocked = False
        for handle in handles:
            msg = get(handle)
            if msg is not None:
                if msg.state == INFLIGHT:
                    unlocked = True
                remove(msg)
                removed += 1
        return removed, unlocked and self.fifo

    def oldest_arrival_ms(self) -> int | None:
        """Arrival time of the oldest live message (for its age), or None when empty."""
        arrivals = self._arrivals
        while arrivals and arrivals[0].state == GONE:
            arrivals.popleft()
        return arrivals[0].arrived_ms if arrivals else None

    def has_receivable(self) -> bool:
        """True when a receive now would find a message (FIFO: a group not locked)."""
        if not self.fifo:
            return self.n_visible > 0
        ready = self._ready
        while ready:
            if self._ready_valid(ready[0]):
                return True
            heapq.heappop(ready)
        return False

    def next_visible_at(self) -> float | None:
        """When the next delayed or in-flight message becomes visible, or None."""
        return self._pending.head()

    # -- time ------------------------------------------------------------------------------
    def advance(self, now: float, now_ms: int) -> int:
        """Apply everything due by ``now``: visibility and delays end, retention expires.

        Returns how many messages expired. Called before every queue operation,
        so the common case, nothing due, is two comparisons.
        """
        if self._pending.due <= now + _EPSILON:
            self._promote(now)
        cutoff = now_ms - self.retention_ms  # expired when sent_ms <= cutoff
        arrivals, early = self._arrivals, self._early
        expired = 0
        if (arrivals and arrivals[0].sent_ms <= cutoff) or (early and early[0][0] <= cutoff):
            expired = self._expire(cutoff)
        self._ops += 1
        if not self._ops & _COMPACT_EVERY_MASK:
            self._compact()
        return expired

    def _promote(self, now: float) -> None:
        limit = now + _EPSILON
        pop_due = self._pending.pop_due
        while (due := pop_due(limit)) is not None:
            for msg in due:
                self._make_visible(msg)

    def _expire(self, cutoff: int) -> int:
        # Only messages still in the arrivals deque and the early heap are
        # looked at: the head of the deque is the oldest arrival, and every
        # message whose retention clock started before its arrival (standard
        # dead-letter moves) is also in the heap.
        count = 0
        arrivals = self._arrivals
        while arrivals:
            msg = arrivals[0]
            if msg.state == GONE:
                arrivals.popleft()
            elif msg.sent_ms <= cutoff:
                arrivals.popleft()
                self.remove(msg)
                count += 1
            else:
                break
        early = self._early
        while early and early[0][0] <= cutoff:
            msg = heapq.heappop(early)[2]
            if msg.state != GONE:
                self.remove(msg)
                count += 1
        return count

    def _compact(self) -> None:
        live = len(self._live)
        if len(self._arrivals) > 2 * live + _COMPACT_SLACK:
            self._arrivals = deque([m for m in self._arrivals if m.state != GONE])
        if len(self._visible) > 2 * self.n_visible + _COMPACT_SLACK:
            self._visible = deque([m for m in self._visible if m.state == VISIBLE])
        if len(self._pending) > 2 * (self.n_inflight + self.n_delayed) + _COMPACT_SLACK:
            self._pending.compact()
        if len(self._ready) > 2 * len(self._groups) + _COMPACT_SLACK:
            self._ready = [e for e in self._ready if self._ready_valid(e)]
            heapq.heapify(self._ready)

    # -- adding ------------------------------------------------------------------------------
    def add(self, msg: StoredMessage, now: float, delay: float) -> None:
        """Enqueue ``msg`` (its ``sent_ms``/``arrived_ms`` already set), visible after ``delay``."""
        msg.seq = seq = self._next_seq
        self._next_seq = seq + 1
        self._live[seq] = msg
        self._arrivals.append(msg)
        if msg.sent_ms < msg.arrived_ms:
            heapq.heappush(self._early, (msg.sent_ms, seq, msg))
        group = None
        if self.fifo:
            assert msg.group_id is not None
            group = self._groups.get(msg.group_id)
            if group is None:
                group = self._groups[msg.group_id] = _Group(msg.group_id)
            group.messages.append(msg)
            group.live += 1
        if delay > 0:
            msg.state = DELAYED
            self.n_delayed += 1
            self._schedule(msg, now + delay)
            return
        msg.state = VISIBLE
        self.n_visible += 1
        if group is None:
            self._visible.append(msg)
        else:
            self._maybe_ready(group)

    # -- receiving ---------------------------------------------------------------------------
    def receive(
        self,
        max_messages: int,
        visibility_timeout: float,
        now: float,
        now_ms: int,
        redrive: Callable[[StoredMessage], bool] | None,
    ) -> tuple[list[StoredMessage], int]:
        """Deliver up to ``max_messages``; returns them and how many moved to the DLQ.

        ``redrive(msg)`` is called for a message whose next receive would exceed
        ``maxReceiveCount``; it returns True once it put the message in the
        dead-letter queue, and the message then leaves this queue.
        """
        out: list[StoredMessage] = []
        if self.fifo:
            moved = self._receive_fifo(max_messages, visibility_timeout, now, now_ms, redrive, out)
        else:
            moved = self._receive_standard(
                max_messages, visibility_timeout, now, now_ms, redrive, out
            )
        if out:
            self._issue_handles(out)
        return out, moved

    def _receive_standard(
        self,
        max_messages: int,
        vt: float,
        now: float,
        now_ms: int,
        redrive: Callable[[StoredMessage], bool] | None,
        out: list[StoredMessage],
    ) -> int:
        moved = 0
        visible = self._visible
        when = now + vt
        bucket: list[StoredMessage] | None = None
        while len(out) < max_messages and visible:
            msg = visible.popleft()
            if msg.state != VISIBLE:
                continue
            if redrive is not None and redrive(msg):
                self.remove(msg)
                moved += 1
                continue
            # _deliver, inlined: this loop is the poller's hot path.
            msg.receive_count += 1
            if msg.first_receive_ms is None:
                msg.first_receive_ms = now_ms
            msg.received_at = now
            msg.state = INFLIGHT
            msg.visible_at = when
            if bucket is None:
                bucket = self._pending.bucket(when)
            bucket.append(msg)
            out.append(msg)
        if out:
            self.n_visible -= len(out)
            self.n_inflight += len(out)
            self._pending.entries += len(out)
        return moved

    def _receive_fifo(
        self,
        max_messages: int,
        vt: float,
        now: float,
        now_ms: int,
        redrive: Callable[[StoredMessage], bool] | None,
        out: list[StoredMessage],
    ) -> int:
        moved = 0
        ready = self._ready
        while len(out) < max_messages and ready:
            entry = heapq.heappop(ready)
            if not self._ready_valid(entry):
                continue
            group = self._groups[entry[1]]
            group.ready_seq = -1
            messages = group.messages
            index = 0
            # Index walk, no iterator: remove() below must not reshape the deque
            # (touch_group=False), and the deque head is cleaned after the walk.
            while len(out) < max_messages and index < len(messages):
                msg = messages[index]
                index += 1
                if msg.state == GONE:
                    continue
                if msg.state != VISIBLE:
                    break  # delayed: everything after it in the group waits too
                if redrive is not None and redrive(msg):
                    self.remove(msg, touch_group=False)
                    moved += 1
                    continue
                self._deliver(msg, vt, now, now_ms)
                out.append(msg)
            if group.live == 0:
                del self._groups[group.gid]
            else:
                self._maybe_ready(group)
        return moved

    def _deliver(self, msg: StoredMessage, vt: float, now: float, now_ms: int) -> None:
        """Put a FIFO message in flight (its handle comes with the whole receive's)."""
        msg.receive_count += 1
        if msg.first_receive_ms is None:
            msg.first_receive_ms = now_ms
        msg.received_at = now
        self.n_visible -= 1
        self.n_inflight += 1
        msg.state = INFLIGHT
        assert msg.group_id is not None
        group = self._groups[msg.group_id]
        if group.inflight == 0:
            self.groups_inflight += 1
        group.inflight += 1
        self._schedule(msg, now + vt)

    def _schedule(self, msg: StoredMessage, when: float) -> None:
        msg.visible_at = when
        self._pending.bucket(when).append(msg)
        self._pending.entries += 1

    def _make_visible(self, msg: StoredMessage) -> None:
        if msg.state == INFLIGHT:
            self.n_inflight -= 1
            if self.fifo:
                self._leave_flight(msg)
        else:
            self.n_delayed -= 1
        msg.state = VISIBLE
        self.n_visible += 1
        if not self.fifo:
            self._visible.append(msg)
            return
        assert msg.group_id is not None
        self._maybe_ready(self._groups[msg.group_id])

    # -- FIFO groups ---------------------------------------------------------------------------
    def _ready_valid(self, entry: tuple[int, str]) -> bool:
        group = self._groups.get(entry[1])
        if group is None or group.ready_seq != entry[0] or group.inflight:
            return False
        group.clean_head()
        messages = group.messages
        return bool(messages) and messages[0].seq == entry[0] and messages[0].state == VISIBLE

    def _maybe_ready(self, group: _Group) -> None:
        """Put ``group`` on the ready heap if it can be received from now."""
        if group.inflight:
            return
        group.clean_head()
        head = group.messages[0] if group.messages else None
        if head is None or head.state != VISIBLE:
            group.ready_seq = -1
        elif group.ready_seq != head.seq:
            group.ready_seq = head.seq
            heapq.heappush(self._ready, (head.seq, group.gid))

    def _leave_flight(self, msg: StoredMessage) -> None:
        """Bookkeeping when an in-flight FIFO message stops being in flight."""
        assert msg.group_id is not None
        group = self._groups[msg.group_id]
        group.inflight -= 1
        if group.inflight == 0:
            self.groups_inflight -= 1

    # -- changing one message -----------------------------------------------------------------
    def remove(self, msg: StoredMessage, *, touch_group: bool = True) -> None:
        """Take ``msg`` out of the queue (deleted, expired, purged or moved)."""
        state = msg.state
        if state == GONE:
            return
        if state == VISIBLE:
            self.n_visible -= 1
        elif state == DELAYED:
            self.n_delayed -= 1
        else:
            self.n_inflight -= 1
            if self.fifo:
                self._leave_flight(msg)
        msg.state = GONE
        del self._live[msg.seq]
        if msg.receipt_handle is not None:
            del self._by_handle[msg.receipt_handle]
        if not self.fifo:
            return
        assert msg.group_id is not None
        group = self._groups[msg.group_id]
        group.live -= 1
        if not touch_group:
            return
        if group.live == 0:
            del self._groups[group.gid]
        else:
            self._maybe_ready(group)

    def change_visibility(self, msg: StoredMessage, visible_at: float) -> None:
        """Reschedule an in-flight message to become visible at ``visible_at``."""
        assert msg.state == INFLIGHT
        self._schedule(msg, visible_at)

    def purge(self) -> int:
        """Remove every message; return how many there were."""
        count = len(self._live)
        for msg in self._live.values():
            msg.state = GONE
        self._live.clear()
        self._by_handle.clear()
        self._arrivals.clear()
        self._early.clear()
        self._visible.clear()
        self._pending.clear()
        self._groups.clear()
        self._ready.clear()
        self.n_visible = self.n_inflight = self.n_delayed = 0
        self.groups_inflight = 0
        return count

    # -- receipt handles ---------------------------------------------------------------------
    def _issue_handles(self, messages: list[StoredMessage]) -> None:
        """Give each message of one receive its new receipt handle (the old one goes stale).

        All of them at once: one random draw, one conversion to bytes and one
        base64 encoding per receive, then a slice per message (see
        ``_HANDLE_BITS``). The layout is the one ``parse_handle`` reads.
        """
        count = len(messages)
        tops, masks = self._handle_tops, self._handle_masks
        while len(tops) <= count:
            tops.append(tops[-1] << _HANDLE_BITS | self._handle_top)
            masks.append(masks[-1] << _HANDLE_BITS | ((1 << _RANDOM_BITS) - 1))
        middle = 0  # seq and receive number of each, 336 bits apart
        for msg in messages:
            receive = msg.receive_count
            if receive > _MAX_RECEIVE_IN_HANDLE:
                receive = _MAX_RECEIVE_IN_HANDLE
            middle = middle << _HANDLE_BITS | msg.seq << 32 | receive
        raw = (
            middle << _RANDOM_BITS
            | tops[count]
            | self._handle_bits(_HANDLE_BITS * count) & masks[count]
        )
        text = _b2a(raw.to_bytes(_HANDLE_LENGTH * count, "big"), newline=False).decode("ascii")
        by_handle = self._by_handle
        start = 0
        for msg in messages:
            if msg.receipt_handle is not None:
                del by_handle[msg.receipt_handle]
            end = start + _HANDLE_CHARS
            msg.receipt_handle = handle = text[start:end]
            by_handle[handle] = msg
            start = end

    def parse_handle(self, handle: object) -> tuple[int, int] | None:
        """``(seq, receive number)`` of a handle this queue could have issued, else None."""
        if not isinstance(handle, str) or not handle:
            return None
        try:
            raw = base64.b64decode(handle.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None
        if (
            len(raw) != _HANDLE_LENGTH
            or not raw.startswith(_HANDLE_PREFIX)
            or raw[3:9] != self._handle_key
        ):
            return None
        seq = int.from_bytes(raw[9:17], "big")
        receive = int.from_bytes(raw[17:21], "big")
        if not 0 < seq < self._next_seq or receive < 1:
            return None
        return seq, receive
