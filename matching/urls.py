"""Review pages for volunteers, the match page for families and seekers, and a photo's
faces (its face crops, the face picker, the age-progressed estimates) for those who may
manage the photo.

A candidate is named by its opaque reference, never its sequential id.
"""

from django.urls import path

from matching.views import dashboard, dna, faces, matches, outcomes, proposals, review

app_name = "matching"

urlpatterns = [
    path("photos/<int:pk>/faces/<int:face_pk>/", faces.photo_face, name="photo_face"),
    path("photos/<int:pk>/face/", faces.face_picker, name="face_picker"),
    path("photos/<int:pk>/age-progression/", faces.photo_age_progression,
         name="photo_age_progression"),
    path("review/", review.queue, name="queue"),
    path("review/<uuid:reference>/", review.review, name="review"),
    path("review/<uuid:reference>/claim/", review.claim, name="claim"),
    path("review/<uuid:reference>/release/", review.release, name="release"),
    path("review/<uuid:reference>/dna/", dna.dna_test, name="dna_test"),
    path("candidates/<uuid:reference>/photos/<int:photo_pk>/", matches.candidate_photo,
         name="candidate_photo"),
    path("candidates/<uuid:reference>/faces/<int:face_pk>/", matches.candidate_face,
         name="candidate_face"),
    path("matches/<uuid:reference>/", matches.match_detail, name="match_detail"),
    path("matches/<uuid:reference>/messages/", matches.match_message_post,
         name="match_messages"),
    path("propose/", proposals.volunteer_propose, name="volunteer_propose"),
    path("propose/case/<int:pk>/", proposals.might_be_me, name="might_be_me"),
    path("propose/posting/<int:pk>/", proposals.might_be_our_child, name="might_be_our_child"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("outcomes/", outcomes.outcomes_report, name="outcomes"),
]
