"""What the review and match pages share: volunteers only, private answers, the candidate.

Volunteers see everything a review needs; anyone else gets 404 (never 403, so
nobody learns which candidates exist).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from families.selectors import is_volunteer
from families.views.common import no_store
from matching.models import Candidate
from matching.selectors.access import candidate_reviewable_by

View = Callable[..., HttpResponseBase]


def volunteer_required(view: View) -> View:
    """Signed-in volunteers (and admins) only; 404 for everyone else."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_volunteer(request.user):
            raise Http404
        return no_store(view(request, *args, **kwargs))

    return wrapper


def candidate_or_404(reference: UUID) -> Candidate:
    """The candidate by its opaque reference (its sequential id is never in an address)."""
    return get_object_or_404(
        Candidate.objects.select_related("case", "seeker_posting", "claimed_by"),
        reference=reference,
    )


def reviewable_candidate(request: HttpRequest, reference: UUID) -> Candidate:
    """The candidate, if the volunteer may review it: never their own, never an ended one."""
    candidate = candidate_or_404(reference)
    if not candidate_reviewable_by(user=request.user, candidate=candidate):
        raise Http404
    return candidate
