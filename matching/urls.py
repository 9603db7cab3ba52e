"""Review pages for volunteers and the match page for families and seekers."""

from django.urls import path

from matching import views

app_name = "matching"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/<int:pk>/", views.review, name="review"),
    path("review/<int:pk>/claim/", views.claim, name="claim"),
    path("review/<int:pk>/release/", views.release, name="release"),
    path("review/<int:pk>/dna/", views.dna_test, name="dna_test"),
    path("candidates/<int:pk>/photos/<int:photo_pk>/", views.candidate_photo,
         name="candidate_photo"),
    path("candidates/<int:pk>/faces/<int:face_pk>/", views.candidate_face,
         name="candidate_face"),
    path("matches/<int:pk>/", views.match_detail, name="match_detail"),
]
