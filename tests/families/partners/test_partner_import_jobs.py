"""The import job (families/partners/jobs.py ``run_partner_import``) in a real worker
process: killed in the middle of an import, it leaves every row it took and nothing of the
row in hand; the worker's upkeep queues the import again and a new worker goes on from the
next row."""

from __future__ import annotations

import csv
import io
import signal
from datetime import timedelta

import pytest
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from families.models import AuditEntry, PartnerImport, PartnerOrganisation, SeekerPosting
from families.partners.services import (
    partner_import_run,
    partner_import_start,
    partner_imports_resume_stalled,
)
from tests.waiting import lock_row, someone_waits_for_a_lock, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timedelta(0)


def people_csv(memories_of_5: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "name", "sex", "birth_year", "notes"])
    for number in range(1, 11):
        notes = memories_of_5 if number == 5 else f"Person {number}."
        writer.writerow([f"HS-{number}", f"Person {number}", "F", "1986", notes])
    return out.getvalue().encode()


@pytest.fixture
def shelter(make_user) -> PartnerOrganisation:
    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", matching_basis="Intake records, 1985-1995.")
    organisation.members.add(make_user())
    return organisation


def test_a_worker_killed_mid_import_keeps_what_went_in_and_a_new_one_resumes(
    shelter, redis_queues, worker_process
):
    member = shelter.members.get()
    # HS-5 is known from an earlier import; the new file changes it.
    earlier = partner_import_start(actor=member, organisation=shelter, csv_name="old.csv",
                                   csv_data=people_csv("Came in winter."), queue=False)
    partner_import_run(partner_import_id=earlier.pk)
    SeekerPosting.objects.filter(organisation=shelter).exclude(partner_reference="HS-5").delete()
    hs5 = SeekerPosting.objects.get(partner_reference="HS-5")

    holder = lock_row("families_seekerposting", hs5.pk)
    try:
        started = partner_import_start(actor=member, organisation=shelter, csv_name="new.csv",
                                       csv_data=people_csv("Came in the winter of 1994."))
        worker = worker_process(burst=False, queues=("import",))
        wait_for(someone_waits_for_a_lock, timeout=120, what="the worker to reach HS-5")
        running = PartnerImport.objects.get(pk=started.pk)
        assert (running.status, running.rows_processed) == (PartnerImport.Status.RUNNING, 4)
        assert StartedJobRegistry(queue=redis_queues["import"]).get_job_ids()

        worker.send_signal(signal.SIGKILL)  # mid-row: no clean-up, no failure handling
        worker.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()

    # The four rows taken are kept; nothing of HS-5's row is.
    stopped = PartnerImport.objects.get(pk=started.pk)
    assert (stopped.status, stopped.rows_processed, stopped.rows_created) == ("running", 4, 4)
    assert SeekerPosting.objects.filter(organisation=shelter).count() == 5
    hs5.refresh_from_db()
    assert hs5.memories == "Came in winter."
    assert redis_queues["import"].count == 0, "no queue holds the import any more"

    assert partner_imports_resume_stalled(grace=NOW) == 1
    assert partner_imports_resume_stalled(grace=NOW) == 0, "queued once, not twice"
    assert AuditEntry.objects.filter(action="partner_import.resumed",
                                     object_id=str(started.pk)).exists()
    worker_process(burst=True, queues=("import",)).wait(timeout=120)

    done = PartnerImport.objects.get(pk=started.pk)
    assert (done.status, done.rows_processed) == (PartnerImport.Status.DONE, 10)
    assert (done.rows_created, done.rows_updated, done.rows_refused) == (9, 1, 0)
    references = list(SeekerPosting.objects.filter(organisation=shelter)
                      .values_list("partner_reference", flat=True))
    assert sorted(references) == sorted(f"HS-{n}" for n in range(1, 11)), "each once"
    hs5.refresh_from_db()
    assert hs5.memories == "Came in the winter of 1994."


def test_the_job_takes_slices_until_the_import_is_done(
    shelter, redis_queues, worker_process, monkeypatch
):
    monkeypatch.setenv("PARTNER_IMPORT_SLICE_SECONDS", "0")  # the worker's: one row per job
    started = partner_import_start(actor=shelter.members.get(), organisation=shelter,
                                   csv_name="people.csv", csv_data=people_csv("A red door."))
    worker = worker_process(burst=True, queues=("import",))
    worker.wait(timeout=120)

    done = PartnerImport.objects.get(pk=started.pk)
    assert (done.status, done.rows_created) == (PartnerImport.Status.DONE, 10)
    # Each slice was a job of its own, queued by the one before.
    finished = FinishedJobRegistry(queue=redis_queues["import"]).get_job_ids()
    assert sorted(finished) == sorted(f"partner-import-{done.pk}-{n}" for n in range(10))
