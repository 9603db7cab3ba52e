"""The DNA test page of a confirmed candidate: requested, samples collected, result."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from families.audit import audit_record
from matching import forms, services
from matching.models import Candidate, DnaTest
from matching.views.common import reviewable_candidate, volunteer_required


def _on_date(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@volunteer_required
@require_http_methods(["GET", "POST"])
def dna_test(request: HttpRequest, reference: UUID) -> HttpResponse:
    """The DNA test of a confirmed candidate: requested, samples collected, result."""
    candidate = reviewable_candidate(request, reference)
    test = DnaTest.objects.filter(candidate=candidate).first()
    step = request.POST.get("step", "")
    request_form = forms.DnaRequestForm(request.POST if step == "request" else None)
    samples_form = forms.DnaSamplesForm(
        request.POST if step == "samples" else None,
        initial={"collected_on": timezone.localdate()},
    )
    result_form = forms.DnaResultForm(
        request.POST if step == "result" else None,
        initial={"result_on": timezone.localdate()},
    )
    if request.method == "POST":
        try:
            done = _dna_step(request, candidate, test, step,
                             request_form, samples_form, result_form)
        except services.ReviewRefused as refused:
            messages.error(request, str(refused))
            done = False
        if done:
            candidate.refresh_from_db(fields=["status"])
            if candidate.status == Candidate.Status.REUNITED:
                messages.success(request, _(
                    "The reunion is recorded: %(case)s and %(posting)s are reunited. Both "
                    "sides are told, and the other possible matches of each are closed."
                ) % {"case": candidate.case, "posting": candidate.seeker_posting.display_name})
            else:
                messages.success(request, _("The DNA test is updated."))
            return redirect("matching:dna_test", reference=candidate.reference)
    # The volunteer arranging the test needs both sides' contacts, and only then.
    show_contacts = candidate.status in (Candidate.Status.CONFIRMED, Candidate.Status.REUNITED)
    audit_record(actor=request.user, action="dna_test.viewed", obj=candidate,
                 detail={"contacts_shown": show_contacts})
    return render(request, "matching/dna_test.html", {
        "candidate": candidate, "test": test, "show_contacts": show_contacts,
        "request_form": request_form,
        "samples_form": samples_form, "result_form": result_form,
        "can_request": candidate.status == Candidate.Status.CONFIRMED and (
            test is None or test.result == DnaTest.Result.INCONCLUSIVE),
    })


def _dna_step(
    request: HttpRequest, candidate: Candidate, test: DnaTest | None, step: str,
    request_form: forms.DnaRequestForm, samples_form: forms.DnaSamplesForm,
    result_form: forms.DnaResultForm,
) -> bool:
    actor = request.user
    if step == "request" and request_form.is_valid():
        services.dna_test_request(actor=actor, candidate=candidate,
                                  lab_reference=request_form.cleaned_data["lab_reference"])
        return True
    if test is None:
        return False
    if step == "samples" and samples_form.is_valid():
        data = samples_form.cleaned_data
        services.dna_test_record_samples(
            actor=actor, dna_test=test, collected_at=_on_date(data["collected_on"]),
            lab_reference=data["lab_reference"],
        )
        return True
    if step == "result" and result_form.is_valid():
        data = result_form.cleaned_data
        services.dna_test_record_result(
            actor=actor, dna_test=test, result=data["result"],
            result_at=_on_date(data["result_on"]), lab_reference=data["lab_reference"],
            note=data["note"],
        )
        return True
    return False
