"""Review pages for volunteers, the match page a confirmation opens to both sides, and
a photo's faces, one module each.

``review``: the queue and the review page; ``dna``: the DNA test page;
``matches``: the match page and the photos and faces of a candidate; ``faces``:
the face crop, the face picker and the age-progressed estimates of a photo;
``dashboard``: the volunteers' charts; ``outcomes``: the calibration and the candidate
rules against the recorded outcomes.
Every view of private data writes an audit entry.
"""
