"""Reads for matching, one module per concern; nothing here writes.

- ``search``: the nearest faces through pgvector (the hot path of every match job), the
  current centring and the ranking parameters it calls for, each face's hubness ``r``;
- ``faces``: the faces of one person or many, and those waiting to be embedded again;
- ``review``: the volunteers' queue, and a candidate's photo pairs compared by eye;
- ``facts``: a candidate's facts side by side, each marked agree, conflict, differs or unknown;
- ``access``: who may review or confirm a candidate, which side of a match a person is, and
  which photos each side sees;
- ``matches``: the match page (status, guidance, messages), the volunteers' reunions, and the
  progress of the search on each photo.
"""
