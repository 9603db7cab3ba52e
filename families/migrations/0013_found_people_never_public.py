"""Found people are never public: only a person can publish themself.

Nobody can consent for a found person (posted by a volunteer, the police or a partner), so
every such posting that was published is taken down, its photos off the public pages, each
with an audit entry; then the database refuses any found person's posting with a date of
publication.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

FOUND = Q(posted_for="found") | Q(organisation__isnull=False)


def take_down_found_people(apps, schema_editor) -> None:
    SeekerPosting = apps.get_model("families", "SeekerPosting")
    Photo = apps.get_model("families", "Photo")
    AuditEntry = apps.get_model("families", "AuditEntry")
    published = SeekerPosting.objects.filter(FOUND, published_at__isnull=False)
    ids = list(published.values_list("pk", flat=True))
    if not ids:
        return
    now = timezone.now()
    SeekerPosting.objects.filter(pk__in=ids).update(published_at=None, show_memories=False,
                                                     updated_at=now)
    Photo.objects.filter(seeker_posting_id__in=ids).update(use_on_poster=False)
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=None, action="seeker_posting.unpublished",
                   object_type="families.seekerposting", object_id=str(pk),
                   detail={"reason": "found_person_never_public"}, created_at=now)
        for pk in ids
    ])


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0012_photo_hidden"),
    ]

    operations = [
        migrations.RunPython(take_down_found_people, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="seekerposting",
            constraint=models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | Q(posted_for="self", organisation__isnull=True),
                name="found_person_never_public",
                violation_error_message=(
                    "A found person's posting is never public: only a person can publish "
                    "themself."
                ),
            ),
        ),
    ]
