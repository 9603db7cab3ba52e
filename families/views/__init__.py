"""Pages for families, seekers and the public, one module per entity.

Thin: each asks a selector and calls one service. ``common`` holds what they
share (404 for what may not be shown, private answers, audited looks);
``accounts``, ``cases``, ``seeker_postings`` and ``photos`` the pages. The face
picker, face crops and estimates live in ``matching.views.faces``.
"""
