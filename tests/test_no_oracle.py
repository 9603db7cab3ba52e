"""No answer tells anyone of a candidate they were not told of (docs/PRIVACY.md).

Differential tests: the same questions asked in two situations that differ only by a
candidate the asker was not told of, and the answers compared (status, where a redirect
goes, the message shown, and the page itself with its ids and form tokens blanked).

- A volunteer who is also a family (case A) asks about two seeker postings that are
  alike in everything but one: posting 1 is paired with case A by a pending candidate,
  posting 2 is not. Both are paired with another family's case B, which the volunteer
  may review.
- A family, a seeker and that volunteer ask about their own case, posting and account
  (pages, inbox, dashboard, the data export), and a tipster reads the public case and
  sends a tip about it, before their pair becomes a candidate and
  after volunteers have looked at it, claimed it, asked for more and rejected it, and
  after the seeker withdrew consent.
- A family or a seeker proposes "this might be our child" / "this might be me" for a
  pair that is already a candidate and for one that is not.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from families.models import MissingChildCase, Notification, Photo, SeekerPosting, Sex, User
from families.services import seeker_posting_publish, seeker_posting_update
from matching import notices as matching_notices
from matching import services as matching_services
from matching.models import Candidate, Face
from tests import builders

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"|(csrftoken=)[^;]+')
#: Ids in addresses, in "#12" and in the photo-state list: what differs between two rows.
IDS = re.compile(r"(?<=/)\d+(?=[/?\"'.#]|$)|(?<=#)\d+|(?<=ids=)[\d,]+|(?<=value=\")\d+(?=\")")
QUERY_IDS = re.compile(r"([?&][a-z_]+=)\d+")
#: Opaque references (a candidate's, a tip's, a notice's) and their short form after "#":
#: random, so two rows differ in them and nothing else can be read from them.
REFERENCES = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                        r"|(?<=#)[0-9a-f]{8}\b")
#: Public case numbers ("GXA6-HXZD"): a case's id for the public, blanked as ids are.
CASE_NUMBERS = re.compile(r"\b[2-9A-HJ-NP-TV-Z]{4}-[2-9A-HJ-NP-TV-Z]{4}\b")
#: Clock times on a page (e.g. a claim's "waiting since"): two pages a second apart agree.
TIMES = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")


def shape(response) -> tuple:
    """What an answer tells: status, redirect, messages, content type, the body with ids
    blanked (HTML, JSON, text) or the body itself (images)."""
    kind = response.get("Content-Type", "")
    body = (b"".join(response.streaming_content) if response.streaming
            else response.content)
    if kind.startswith(("text/", "application/json")):
        text = TIMES.sub("T", IDS.sub("N", REFERENCES.sub("R", CASE_NUMBERS.sub(
            "C", CSRF.sub("", body.decode())))))
    elif kind == "application/pdf":
        text = f"a PDF of {len(body) > 0 and 'some'} pages"  # dated inside; its answer is enough
    else:
        text = body
    text = QUERY_IDS.sub(r"\1N", text) if isinstance(text, str) else text
    location = REFERENCES.sub("R", response.get("Location", ""))
    location = QUERY_IDS.sub(r"\1N", IDS.sub("N", location))
    chain = [(IDS.sub("N", QUERY_IDS.sub(r"\1N", REFERENCES.sub("R", url))), status)
             for url, status in getattr(response, "redirect_chain", [])]
    told = [str(m) for m in get_messages(response.wsgi_request)] if hasattr(
        response, "wsgi_request") else []
    return response.status_code, location or chain, kind, told, text


def _difference(a: tuple, b: tuple) -> str:
    for index, name in enumerate(("status", "location", "type", "messages", "body")):
        if a[index] != b[index]:
            if name == "body" and isinstance(a[index], str):
                lines_a, lines_b = a[index].splitlines(), b[index].splitlines()
                for line_a, line_b in zip(lines_a, lines_b, strict=False):
                    if line_a != line_b:
                        return f"body: {line_a.strip()[:200]!r} != {line_b.strip()[:200]!r}"
                return f"body lengths {len(lines_a)} != {len(lines_b)}"
            return f"{name}: {str(a[index])[:200]!r} != {str(b[index])[:200]!r}"
    return ""


def _face(photo: Photo) -> Face:
    return builders.face(photo=photo, box_x=60, box_y=60, box_w=120, box_h=120,
                         landmarks={"left_eye": [100, 100], "right_eye": [140, 100]},
                         embedding=[0.1] * 128, model_version="test")


def _record(case: MissingChildCase, posting: SeekerPosting) -> Candidate:
    """A candidate as a match job records one, between the two people's real face rows."""
    return matching_services.candidate_record(
        case_id=case.pk, seeker_posting_id=posting.pk, distance=0.07,
        case_face_id=Face.objects.filter(photo__case=case).first().pk,
        seeker_face_id=Face.objects.filter(photo__seeker_posting=posting).first().pk,
        age_gap_years=30, model_version="test", score=0.8,
    )


@dataclass
class Posting:
    posting: SeekerPosting
    photo: Photo
    face: Face
    with_case_b: Candidate


@pytest.fixture
def twins(make_user, redis_queues):
    """Volunteer V is family A; postings 1 and 2 are alike; only posting 1 is paired with A."""
    confirmed = {"email_confirmed_at": timezone.now()}
    volunteer_family = make_user(volunteer=True, **confirmed)
    case_a = builders.case(family=volunteer_family, sex=Sex.FEMALE)
    case_b = builders.case(family=make_user(**confirmed), sex=Sex.FEMALE)
    picture = builders.jpeg(size=(240, 240))
    for case in (case_a, case_b):
        _face(builders.photo(data=picture, case=case))
    postings = []
    for _number in (1, 2):
        seeker = make_user(full_name="Anna Seeker", **confirmed)
        posting = builders.seeker_posting(seeker=seeker, display_name="Anna", sex=Sex.FEMALE)
        photo = builders.photo(data=picture, posting=posting)
        face = _face(photo)
        seeker_posting_publish(actor=seeker, posting=posting, photos=[photo],
                               show_memories=False)
        postings.append(Posting(posting, photo, face, _record(case_b, posting)))
    paired = _record(case_a, postings[0].posting)
    return {"volunteer_family": volunteer_family, "case_a": case_a, "case_b": case_b,
            "postings": postings, "paired": paired}


def _urls(p: Posting) -> list[str]:
    """Every page about one posting that a signed-in person can ask for."""
    pk, photo, face, other = (p.posting.pk, p.photo.pk, p.face.pk,
                                 p.with_case_b.reference)
    return [
        reverse("families:seeker_detail", args=[pk]),
        reverse("families:seeker_edit", args=[pk]),
        reverse("families:seeker_withdraw", args=[pk]),
        reverse("families:seeker_photos", args=[pk]),
        reverse("families:seeker_publish", args=[pk]),
        reverse("families:seeker_delete", args=[pk]),
        reverse("families:public_seeker_detail", args=[pk]),
        reverse("families:public_seeker_poster", args=[pk]),
        reverse("families:photo_image", args=[photo]),
        reverse("matching:photo_face", args=[photo, face]),
        reverse("families:photo_edit", args=[photo]),
        reverse("families:photo_delete", args=[photo]),
        reverse("matching:face_picker", args=[photo]),
        reverse("matching:photo_age_progression", args=[photo]),
        reverse("families:photo_states") + f"?ids={photo}",
        reverse("matching:might_be_our_child", args=[pk]),
        reverse("matching:review", args=[other]),
        reverse("matching:dna_test", args=[other]),
        reverse("matching:candidate_photo", args=[other, photo]),
        reverse("matching:candidate_face", args=[other, face]),
        reverse("matching:match_detail", args=[other]),
        reverse("matching:volunteer_propose") + f"?seeker_posting={pk}",
    ]


def _compare(ask: Callable[[Posting], list[tuple[str, tuple]]], postings: list[Posting]):
    paired, unpaired = (ask(p) for p in postings)
    wrong = [f"{url}: {_difference(a, b)}"
             for (url, a), (_url, b) in zip(paired, unpaired, strict=True) if a != b]
    assert not wrong, "answers differ:\n" + "\n".join(wrong)


def test_a_volunteer_who_is_a_family_gets_the_same_answers_about_both_postings(twins):
    client = Client()
    client.force_login(twins["volunteer_family"])
    answers = {}

    def ask(p: Posting) -> list[tuple[str, tuple]]:
        found = [(url, shape(client.get(url))) for url in _urls(p)]
        answers[p.posting.pk] = found
        return found

    _compare(ask, twins["postings"])
    # The pages were really asked and answered: the review of each posting with case B
    # opens (through the candidate the volunteer may review), the posting's own pages don't.
    statuses = {resolve(url.split("?")[0]).url_name: answer[0] for url, answer in
                answers[twins["postings"][1].posting.pk]}
    assert statuses["seeker_detail"] == 404 and statuses["review"] == 200, statuses
    assert statuses["candidate_photo"] == 200 and statuses["public_seeker_detail"] == 200


def test_proposals_and_volunteer_proposals_answer_alike(twins):
    client = Client()
    client.force_login(twins["volunteer_family"])
    case_a, case_b = twins["case_a"], twins["case_b"]

    def ask(p: Posting) -> list[tuple[str, tuple]]:
        pk = p.posting.pk
        might_be = reverse("matching:might_be_our_child", args=[pk])
        propose = reverse("matching:volunteer_propose")
        return [
            (might_be, shape(client.post(might_be, {
                "own": case_a.pk, "note": "Her smile, and the year."}, follow=True))),
            (propose + " A", shape(client.post(propose, {
                "case": case_a.pk, "seeker_posting": pk, "note": "Same dimple."},
                follow=True))),
            (propose + " B", shape(client.post(propose, {
                "case": case_b.pk, "seeker_posting": pk, "note": "Same dimple."},
                follow=True))),
        ]

    _compare(ask, twins["postings"])
    # Both proposals were taken: posting 2 is now a candidate with case A too.
    assert Candidate.objects.filter(case=case_a).count() == 2
    # The volunteer's own export lists each proposal the same way, new pair or not.
    proposals = [entry for entry in _export(client)["audit.json"]
                 if entry["action"].startswith("candidate.proposed")]
    assert [entry["action"] for entry in proposals] == ["candidate.proposed"] * 4
    assert [entry["object"] for entry in proposals] == [
        f"families.missingchildcase#{case.pk} × families.seekerposting#{p.posting.pk}"
        for p in twins["postings"] for case in (case_a, case_b)]


def test_this_might_be_me_answers_alike_whether_or_not_a_candidate_exists(make_user,
                                                                          redis_queues):
    confirmed = {"email_confirmed_at": timezone.now()}
    family = make_user(**confirmed)
    cases = [builders.case(family=family, sex=Sex.FEMALE, given_name="Lan") for _ in (1, 2)]
    seeker = make_user(**confirmed)
    posting = builders.seeker_posting(seeker=seeker, sex=Sex.FEMALE)
    picture = builders.jpeg(size=(240, 240))
    for owner in (*cases, posting):
        kind = {"case": owner} if isinstance(owner, MissingChildCase) else {"posting": owner}
        _face(builders.photo(data=picture, **kind))
    _record(cases[0], posting)
    client = Client()
    client.force_login(seeker)

    def ask(case: MissingChildCase) -> list[tuple[str, tuple]]:
        url = reverse("matching:might_be_me", args=[case.pk])
        return [(url + " GET", shape(client.get(url))),
                (url, shape(client.post(url, {"own": posting.pk, "note": "My earliest memory."},
                                        follow=True)))]

    paired, unpaired = ask(cases[0]), ask(cases[1])
    wrong = [f"{url}: {_difference(a, b)}"
             for (url, a), (_u, b) in zip(paired, unpaired, strict=True) if a != b]
    assert not wrong, "\n".join(wrong)
    assert paired[1][1][0] == 200 and paired[1][1][1], "taken, and sent to the case page"


# --- Before and after a candidate: one's own pages, inbox, dashboard and export ----------


def _export(client: Client) -> dict[str, object]:
    response = client.get(reverse("families:account_export"))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        found = {name: json.loads(archive.read(name)) for name in archive.namelist()
                 if name.endswith(".json")}
    # The person's own downloads and looks at the tips queue are theirs, made by asking.
    found["audit.json"] = [{k: v for k, v in entry.items() if k != "when"}
                           for entry in found["audit.json"]
                           if entry["action"] not in ("account.exported", "tips.listed")]
    found["account.json"].pop("last_login", None)
    return found


def _own_pages(user: User) -> list[str]:
    pages = [reverse("families:dashboard"), reverse("families:inbox"),
             reverse("families:profile")]
    for case in MissingChildCase.objects.filter(family=user):
        pages += [reverse("families:case_detail", args=[case.pk]),
                  reverse("families:case_edit", args=[case.pk]),
                  reverse("families:case_withdraw", args=[case.pk]),
                  reverse("families:case_photos", args=[case.pk])]
    for posting in SeekerPosting.objects.filter(owner=user):
        pages += [reverse("families:seeker_detail", args=[posting.pk]),
                  reverse("families:seeker_edit", args=[posting.pk]),
                  reverse("families:seeker_withdraw", args=[posting.pk]),
                  reverse("families:seeker_photos", args=[posting.pk]),
                  reverse("families:seeker_publish", args=[posting.pk])]
    for photo in Photo.objects.filter(owner=user):
        pages += [reverse("families:photo_image", args=[photo.pk]),
                  reverse("families:photo_edit", args=[photo.pk]),
                  reverse("families:photo_states") + f"?ids={photo.pk}"]
    if user.is_volunteer:
        pages += [reverse("matching:queue"), reverse("matching:dashboard"),
                  reverse("matching:outcomes"), reverse("families:tips_queue")]
    return pages


def _tipster(case: MissingChildCase) -> dict[str, object]:
    """What anyone reading the public case, and sending a tip about it, is answered."""
    client = Client()
    tip = reverse("families:tip_create", args=[case.pk])
    return {
        "tipster case": shape(client.get(case.get_absolute_url())),
        "tipster poster": shape(client.get(reverse("families:case_poster", args=[case.pk]))),
        "tipster form": shape(client.get(tip)),
        "tipster tip": shape(client.post(tip, {"text": "Seen at the market in 2005.",
                                               "place": "Xi'an"}, follow=True)),
    }


def _everything(clients: dict[str, Client], users: dict[str, User],
                public_case: MissingChildCase | None = None) -> dict[str, object]:
    seen = _tipster(public_case) if public_case is not None else {}
    for name, client in clients.items():
        for url in _own_pages(users[name]):
            seen[f"{name} {url}"] = shape(client.get(url))
        seen[f"{name} export"] = _export(client)
    return seen


def _same(before: dict[str, object], after: dict[str, object]) -> None:
    wrong = []
    for key, answer in before.items():
        if answer != after[key]:
            wrong.append(f"{key}: " + (_difference(answer, after[key])
                                       if isinstance(answer, tuple) else
                                       _json_difference(answer, after[key])))
    assert not wrong, "answers changed:\n" + "\n".join(wrong)


def _json_difference(a: dict, b: dict) -> str:
    return "; ".join(f"{name}: {a[name]!r} != {b.get(name)!r}" for name in a
                     if a[name] != b.get(name))[:2000]


@pytest.mark.parametrize("asking", ["family and seeker", "volunteer who is a family"])
def test_a_candidate_and_what_volunteers_do_about_it_change_nothing_its_sides_see(
    asking, make_user, redis_queues
):
    confirmed = {"email_confirmed_at": timezone.now()}
    family = make_user(**confirmed)
    volunteer_family = make_user(volunteer=True, **confirmed)  # posts a case too
    seeker = make_user(**confirmed)
    reviewer = make_user(volunteer=True)
    case = builders.case(family=family, sex=Sex.FEMALE)
    own_case = builders.case(family=volunteer_family, sex=Sex.FEMALE)
    posting = builders.seeker_posting(seeker=seeker, sex=Sex.FEMALE)
    picture = builders.jpeg(size=(240, 240))
    photos = {"case": builders.photo(data=picture, case=case),
              "own": builders.photo(data=picture, case=own_case),
              "posting": builders.photo(data=picture, posting=posting)}
    for photo in photos.values():
        _face(photo)
    seeker_posting_publish(actor=seeker, posting=posting, photos=[], show_memories=False)
    users = {"family": family, "seeker": seeker, "volunteer_family": volunteer_family}
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    volunteer = Client()
    volunteer.force_login(reviewer)

    def looked_at_claimed_and_rejected(candidate: Candidate) -> None:
        for url in (reverse("matching:review", args=[candidate.reference]),
                    reverse("matching:candidate_photo",
                            args=[candidate.reference, photos["posting"].pk]),
                    reverse("matching:candidate_face",
                            args=[candidate.reference, candidate.case_face_id]),
                    reverse("families:case_photos", args=[candidate.case_id])):
            assert volunteer.get(url).status_code == 200, url
        matching_services.candidate_claim(actor=reviewer, candidate=candidate)
        matching_services.candidate_review(actor=reviewer, candidate=candidate,
                                           decision="needs_info", note="A clearer photo?")

    # The family and the seeker: before their pair is a candidate, and after volunteers
    # looked at it, claimed it, asked for more and rejected it.
    sides = {name: users[name] for name in ("family", "seeker")}
    side_clients = {name: clients[name] for name in sides}
    before = _everything(side_clients, sides, public_case=case)
    found = _record(case, posting)
    looked_at_claimed_and_rejected(found)
    matching_services.candidate_review(actor=reviewer, candidate=found, decision="reject",
                                       reason="different_person", note="Ears differ.")
    if asking == "family and seeker":
        _same(before, _everything(side_clients, sides, public_case=case))

    # The volunteer who is a family (who rightly hears of the first candidate, as a
    # volunteer): before and after their own case is paired with the same posting.
    mine = {"volunteer_family": volunteer_family}
    mine_client = {"volunteer_family": clients["volunteer_family"]}
    before = _everything(mine_client, mine)
    also = _record(own_case, posting)
    looked_at_claimed_and_rejected(also)
    if asking == "volunteer who is a family":
        _same(before, _everything(mine_client, mine))
        return

    # The seeker withdraws consent while one candidate is still open: the seeker's own
    # answers are those of a withdrawal with no candidate at all.
    seeker_posting_update(actor=seeker, posting=posting, fields={"consent_to_matching": False})
    also.refresh_from_db()
    assert also.status == Candidate.Status.ENDED
    # Only the volunteer who had claimed it and asked for more hears that it ended, and why.
    (handled,) = Notification.objects.filter(kind="candidate_ended_for_volunteer")
    assert handled.recipient == reviewer
    assert "withdrew consent" in handled.body and "Neither side had been told" in handled.body
    with_candidates = _everything(clients, users)

    # The same withdrawal in a world without candidates: the seeker's twin.
    twin = make_user(**confirmed)
    twin_posting = builders.seeker_posting(seeker=twin, sex=Sex.FEMALE)
    _face(builders.photo(data=picture, posting=twin_posting))
    seeker_posting_publish(actor=twin, posting=twin_posting, photos=[], show_memories=False)
    seeker_posting_update(actor=twin, posting=twin_posting,
                          fields={"consent_to_matching": False})
    twin_client = Client()
    twin_client.force_login(twin)
    twin_export = _export(twin_client)
    seeker_export = with_candidates["seeker export"]
    assert [e["action"] for e in seeker_export["audit.json"]] == [
        e["action"] for e in twin_export["audit.json"]]
    assert seeker_export["notifications.json"] == twin_export["notifications.json"] == []
    assert not any(entry["action"].startswith("candidate.")
                   for entry in seeker_export["audit.json"])


#: What names a candidate or a notice in an address: a reference, never a number.
NAMED = re.compile(r"/(?:matching/(?:review|matches|candidates)|me/inbox|tips)/([^/\"']+)/")


def _names(text: str) -> list[str]:
    return NAMED.findall(text)


def test_references_of_candidates_and_notices_count_nothing(make_user, redis_queues):
    """Ids are sequential: a volunteer who is also a family would see a gap where a
    candidate of their own case was recorded. References are random: the volunteer's queue
    and inbox name candidates and notices by references that a second volunteer, shown the
    candidate of the first one's case too, sees the same, in no order of their creation."""
    confirmed = {"email_confirmed_at": timezone.now()}
    family_volunteer = make_user(volunteer=True, **confirmed)
    other_volunteer = make_user(volunteer=True, **confirmed)
    own_case = builders.case(family=family_volunteer)
    seeker = make_user(**confirmed)
    candidates = []
    for number in range(13):
        case = own_case if number == 6 else builders.case(family=make_user(**confirmed))
        posting = builders.seeker_posting(seeker=seeker, display_name=f"Adult {number}")
        candidate = builders.candidate(case=case, posting=posting, score=0.9 - number / 100)
        matching_notices.candidate_created(candidate)
        candidates.append(candidate)
    own = candidates[6]
    views = {}
    for volunteer in (family_volunteer, other_volunteer):
        client = Client()
        client.force_login(volunteer)
        queue = client.get(reverse("matching:queue")).content.decode()
        inbox = client.get(reverse("families:inbox")).content.decode()
        links = list(Notification.objects.filter(recipient=volunteer).values_list(
            "link", flat=True))
        views[volunteer] = (queue, inbox, links)
        # No number names a candidate or a notice anywhere they look: pages, notice links.
        names = _names(queue) + _names(inbox) + [n for link in links for n in _names(link)]
        assert names and not [name for name in names if name.isdigit()], names
        for candidate in candidates:
            assert f"/{candidate.pk}/" not in queue + inbox + "".join(links)
    queue_of = {volunteer: {name for name in _names(views[volunteer][0])}
                for volunteer in views}
    references = [str(c.reference) for c in candidates]
    # The family's own candidate is nowhere in their view; the rest are named alike.
    assert queue_of[other_volunteer] == set(references)
    assert queue_of[family_volunteer] == set(references) - {str(own.reference)}
    assert str(own.reference) not in "".join(str(part) for part in views[family_volunteer])
    assert f"#{own.short_reference}" not in views[family_volunteer][0]
    # In no order of creation: sorting the references tells nothing of which came when
    # (13 random references come out sorted once in 13! ≈ 6·10⁹ runs).
    assert references != sorted(references)
    assert [c.short_reference for c in candidates] != sorted(c.short_reference
                                                                for c in candidates)
    notices = list(Notification.objects.order_by("pk").values_list("reference", flat=True))
    assert len(notices) >= 24 and [str(n) for n in notices] != sorted(str(n) for n in notices)
    # The same inbox, whoever else was told of what: the notices of the two volunteers
    # are interleaved in the database, yet each inbox names its own by reference only.
    opened = {name for name in _names(views[family_volunteer][1])}
    assert opened == {str(n.reference) for n in Notification.objects.filter(
        recipient=family_volunteer)}
