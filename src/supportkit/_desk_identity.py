"""One customer across channels: linking identities, proposals for agents, reversible merges.

A message may show who the customer is on another channel: the address
they typed in the chat, the phone number in a web form (``contacts=`` of
``desk.receive``, or ``meta["contacts"]`` from a channel). When such an
identity is a **verified** identity of another profile (an email address
that wrote to us, a number that called us, a host's signed-in user) the
desk joins the profiles at once and records why
(:class:`~supportkit.domain.CustomerLinked`). When it matches an
**unverified** one (typed into a form by anyone) nothing is merged: an
:class:`IdentityProposal` waits for an agent to accept or reject it.

Every merge keeps what it moved (identities and tickets) on the merged
profile, so :meth:`IdentityUseCases.split_customer` gives it all back; the
profiles keep the history of both steps in ``attributes["merge_history"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from ._context import DeskContext
from ._desk_core import DeskCore
from .domain._errors import NotFound, ValidationError
from .domain._events import CustomerMerged, CustomerUpdated
from .domain._model import Customer, Identity
from .domain._service_events import CustomerLinked, CustomerSplit, IdentityMatchProposed
from .ports._storage import TicketQuery

__all__ = [
    "PROPOSALS_NAMESPACE",
    "IdentityProposal",
    "IdentityUseCases",
    "contacts_of",
    "merge_customers_in",
    "propose_earlier_claims",
]

PROPOSALS_NAMESPACE = "supportkit.identity.proposals"
#: contacts typed before anyone owned them: ``channel:address`` -> the profiles that gave it
CLAIMED_NAMESPACE = "supportkit.identity.claimed"
_MERGE = "merge"
_HISTORY = "merge_history"
_CONTACTS = "contacts"


@attrs.frozen
class IdentityProposal:
    """An identity that matched another profile's unverified identity, for an agent to decide."""

    id: str
    customer_id: str
    candidate_customer_id: str
    identity: Identity
    reason: str
    at: datetime
    status: str = "open"  # open | accepted | rejected
    decided_by: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "candidate_customer_id": self.candidate_customer_id,
            "identity": [self.identity.channel, self.identity.address],
            "reason": self.reason,
            "at": self.at.isoformat(),
            "status": self.status,
            "decided_by": self.decided_by,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IdentityProposal:
        channel, address = row["identity"]
        return cls(
            row["id"],
            row["customer_id"],
            row["candidate_customer_id"],
            Identity(channel, address),
            row["reason"],
            datetime.fromisoformat(row["at"]),
            row.get("status", "open"),
            row.get("decided_by"),
        )


def contacts_of(
    contacts: Mapping[str, str] | Iterable[Identity] | None,
) -> list[Identity]:
    """Identities a customer gave, from ``{"email": ..., "phone": ...}`` or Identity values."""
    if not contacts:
        return []
    if isinstance(contacts, Mapping):
        items = [(str(k), v) for k, v in contacts.items()]
    else:
        items = []
        for c in contacts:
            if not isinstance(c, Identity):
                raise ValidationError(
                    f"contacts must be Identity values or a mapping channel -> address, got {c!r}"
                )
            items.append((c.channel, c.address))
    found: list[Identity] = []
    for channel, address in items:
        if not isinstance(address, str) or not address.strip():
            continue  # an empty form field is no contact
        ident = Identity.of(channel, address)
        if ident not in found:
            found.append(ident)
    return found


def _resolve(ctx: DeskContext, customer: Customer) -> Customer:
    while customer.merged_into:
        customer = ctx.uow.get_customer(customer.merged_into)
    return customer


def _owner(ctx: DeskContext, ident: Identity) -> Customer | None:
    found = ctx.uow.find_customer_by_identity(ident)
    return None if found is None else _resolve(ctx, found)


def _history(customer: Customer, entry: dict[str, Any]) -> None:
    customer.attributes = {
        **customer.attributes,
        _HISTORY: [*customer.attributes.get(_HISTORY, []), entry],
    }


def merge_customers_in(
    ctx: DeskContext, src: Customer, dst: Customer, *, reason: str, actor: str
) -> Customer:
    """Move *src*'s identities and tickets to *dst*, remembering what moved (for a split)."""
    if src.id == dst.id:
        raise ValidationError("cannot merge a customer into itself")
    if src.merged_into:
        raise ValidationError(
            f"customer {src.id!r} is merged into {src.merged_into!r} already; split it first"
        )
    idents = list(src.identities)
    verified = [i for i in src.verified if i in idents]
    moved_tickets: list[str] = []
    offset = 0
    while True:
        batch = ctx.uow.find_tickets(TicketQuery(customer_id=src.id, limit=500, offset=offset))
        if not batch:
            break
        moved_tickets.extend(t.id for t in batch)
        offset += len(batch)
    src.identities = []
    src.verified = []
    src.merged_into = dst.id
    record = {
        "into": dst.id,
        "at": ctx.now.isoformat(),
        "actor": actor,
        "reason": reason,
        "identities": [[i.channel, i.address] for i in idents],
        "verified": [[i.channel, i.address] for i in verified],
        "tickets": moved_tickets,
    }
    src.attributes = {**src.attributes, _MERGE: record}
    _history(src, {"merged_into": dst.id, **{k: record[k] for k in ("at", "actor", "reason")}})
    ctx.uow.save_customer(src)
    for ident in idents:
        if ident not in dst.identities:
            dst.identities.append(ident)
    for ident in verified:
        if ident not in dst.verified:
            dst.verified.append(ident)
    _history(dst, {"merged_from": src.id, **{k: record[k] for k in ("at", "actor", "reason")}})
    ctx.uow.save_customer(dst)
    for tid in moved_tickets:
        t = ctx.ticket(tid)
        t.customer_id = dst.id
        t.record(CustomerMerged(t.id, ctx.now, src.id, dst.id))
    ctx.record(CustomerMerged("", ctx.now, src.id, dst.id))
    return dst


def link_on_receive(
    ctx: DeskContext,
    customer: Customer,
    contacts: list[Identity],
    *,
    channel: str,
    fresh: bool,
) -> Customer:
    """Inside ``receive``: join *customer* with the profiles its *contacts* verify, propose
    the unverified matches, and note unknown contacts on the profile (not as identities)."""
    for ident in contacts:
        owner = _owner(ctx, ident)
        label = f"{ident.channel}:{ident.address}"
        if owner is None:
            # kept for agents to see, never indexed: a typed address proves nothing, so it
            # must not pull the real owner's later messages onto this profile
            claimed = list(customer.attributes.get(_CONTACTS, []))
            if label not in claimed:
                customer.attributes = {**customer.attributes, _CONTACTS: [*claimed, label]}
                ctx.uow.save_customer(customer)
            # remembered by contact, so the owner writing later is proposed to an agent
            givers = list(ctx.uow.kv_get(CLAIMED_NAMESPACE, label) or [])
            if customer.id not in givers:
                ctx.uow.kv_put(CLAIMED_NAMESPACE, label, [*givers, customer.id])
            continue
        if owner.id == customer.id:
            continue
        if ident in owner.verified:
            reason = f"{label} given on {channel} is a verified identity of customer {owner.id}"
            if fresh:  # a profile made by this very message: it becomes the owner's
                moved = list(customer.identities)
                customer.identities = []
                customer.merged_into = owner.id
                ctx.uow.save_customer(customer)
                owner.identities.extend(i for i in moved if i not in owner.identities)
                owner.verified.extend(
                    i for i in customer.verified if i in moved and i not in owner.verified
                )
                _history(owner, {"linked": label, "at": ctx.now.isoformat(), "reason": reason})
                ctx.uow.save_customer(owner)
            else:
                merge_customers_in(ctx, customer, owner, reason=reason, actor="system")
            ctx.record(CustomerLinked("", ctx.now, customer.id, owner.id, label, reason))
            customer = owner
            fresh = False
            continue
        _propose(ctx, customer, owner, ident, channel)
    return customer


def propose_earlier_claims(ctx: DeskContext, owner: Customer, ident: Identity) -> None:
    """Inside ``receive``, for a profile just made for *ident*: every profile that typed
    *ident* as a contact before anyone owned it is proposed to an agent as the same person
    (retroactively; never merged, since a typed address proves nothing)."""
    label = f"{ident.channel}:{ident.address}"
    for giver_id in ctx.uow.kv_get(CLAIMED_NAMESPACE, label) or []:
        try:
            giver = _resolve(ctx, ctx.uow.get_customer(str(giver_id)))
        except NotFound:
            continue
        if giver.id != owner.id:
            _propose(
                ctx,
                giver,
                owner,
                ident,
                "an earlier message",
                reason=f"{label} was given by customer {giver.id} before customer "
                f"{owner.id} wrote from it",
            )


def _propose(
    ctx: DeskContext,
    customer: Customer,
    owner: Customer,
    ident: Identity,
    channel: str,
    *,
    reason: str | None = None,
) -> None:
    key = f"{customer.id}:{owner.id}:{ident.channel}:{ident.address}"
    if ctx.uow.kv_get(PROPOSALS_NAMESPACE, key) is not None:
        return  # proposed before (and maybe decided): not again
    label = f"{ident.channel}:{ident.address}"
    if reason is None:
        reason = f"{label} given on {channel} matches customer {owner.id}, where it is not verified"
    proposal = IdentityProposal(key, customer.id, owner.id, ident, reason, ctx.now)
    ctx.uow.kv_put(PROPOSALS_NAMESPACE, key, proposal.to_row())
    ctx.record(IdentityMatchProposed("", ctx.now, key, customer.id, owner.id, label, reason))


class IdentityUseCases(DeskCore):
    """Proposals, verification and splitting of merged profiles."""

    def identity_proposals(self, *, status: str | None = "open") -> list[IdentityProposal]:
        """Matches waiting for an agent (``status=None``: every proposal), oldest first."""
        with self.storage.unit_of_work() as uow:
            rows = [row for _, row in uow.kv_items(PROPOSALS_NAMESPACE)]
        found = [IdentityProposal.from_row(r) for r in rows]
        return sorted(
            (p for p in found if status is None or p.status == status), key=lambda p: p.at
        )

    def accept_identity_match(self, proposal_id: str, *, actor: str) -> Customer:
        """The agent confirms one person: the proposing profile is merged into the candidate."""

        def use_case(ctx: DeskContext) -> Customer:
            proposal = self._open_proposal(ctx, proposal_id)
            src = _resolve(ctx, ctx.uow.get_customer(proposal.customer_id))
            dst = _resolve(ctx, ctx.uow.get_customer(proposal.candidate_customer_id))
            decided = attrs.evolve(proposal, status="accepted", decided_by=actor)
            ctx.uow.kv_put(PROPOSALS_NAMESPACE, proposal.id, decided.to_row())
            if src.id == dst.id:
                return dst
            label = f"{proposal.identity.channel}:{proposal.identity.address}"
            reason = f"{actor} confirmed {label} is the same person"
            merged = merge_customers_in(ctx, src, dst, reason=reason, actor=actor)
            ctx.record(CustomerLinked("", ctx.now, src.id, dst.id, label, reason, actor))
            return merged

        return self.run(use_case)

    def reject_identity_match(self, proposal_id: str, *, actor: str) -> IdentityProposal:
        """The agent says these are two people: nothing is merged, and it is not proposed again."""

        def use_case(ctx: DeskContext) -> IdentityProposal:
            decided = attrs.evolve(
                self._open_proposal(ctx, proposal_id), status="rejected", decided_by=actor
            )
            ctx.uow.kv_put(PROPOSALS_NAMESPACE, decided.id, decided.to_row())
            return decided

        return self.run(use_case)

    def _open_proposal(self, ctx: DeskContext, proposal_id: str) -> IdentityProposal:
        row = ctx.uow.kv_get(PROPOSALS_NAMESPACE, proposal_id)
        if row is None:
            raise NotFound("identity proposal", proposal_id)
        proposal = IdentityProposal.from_row(row)
        if proposal.status != "open":
            raise ValidationError(
                f"identity proposal {proposal_id!r} was {proposal.status} by "
                f"{proposal.decided_by}; it cannot be decided again"
            )
        return proposal

    def verify_identity(
        self, customer_id: str, channel: str, address: str, *, actor: str
    ) -> Customer:
        """Mark an identity of the customer as verified (an agent checked it, e.g. by calling)."""
        ident = Identity.of(channel, address)

        def use_case(ctx: DeskContext) -> Customer:
            c = _resolve(ctx, ctx.uow.get_customer(customer_id))
            if ident not in c.identities:
                raise ValidationError(
                    f"{channel}:{ident.address} is not an identity of customer {c.id}; "
                    "add it with add_identity first"
                )
            if ident not in c.verified:
                c.verified.append(ident)
                ctx.uow.save_customer(c)
                ctx.record(
                    CustomerUpdated(
                        "", ctx.now, c.id, f"verified {channel}:{ident.address} ({actor})"
                    )
                )
            return c

        return self.run(use_case)

    def split_customer(self, customer_id: str, *, actor: str, reason: str) -> Customer:
        """Undo the merge of *customer_id*: its identities and the tickets the merge moved go
        back to it; both profiles keep the merge and the split in their history."""
        if not reason.strip():
            raise ValidationError("a split needs a reason: pass reason='...'")

        def use_case(ctx: DeskContext) -> Customer:
            src = ctx.uow.get_customer(customer_id)
            record = src.attributes.get(_MERGE)
            if not src.merged_into or not record:
                raise ValidationError(f"customer {customer_id!r} is not merged into another")
            dst = ctx.uow.get_customer(src.merged_into)
            idents = [Identity(c, a) for c, a in record["identities"]]
            verified = [Identity(c, a) for c, a in record.get("verified", [])]
            dst.identities = [i for i in dst.identities if i not in idents]
            dst.verified = [i for i in dst.verified if i not in idents]
            at = ctx.now.isoformat()
            _history(dst, {"split_from": src.id, "at": at, "actor": actor, "reason": reason})
            ctx.uow.save_customer(dst)
            src.identities = idents
            src.verified = verified
            src.merged_into = None
            src.attributes = {k: v for k, v in src.attributes.items() if k != _MERGE}
            _history(src, {"split_from": dst.id, "at": at, "actor": actor, "reason": reason})
            ctx.uow.save_customer(src)
            for tid in record["tickets"]:
                t = ctx.ticket(tid)
                if t.customer_id == dst.id:
                    t.customer_id = src.id
                    t.record(CustomerSplit(t.id, ctx.now, src.id, dst.id, reason, actor))
            ctx.record(CustomerSplit("", ctx.now, src.id, dst.id, reason, actor))
            return src

        return self.run(use_case)
