"""Cross-age evaluation: how well a young photo finds its adult among many.

``evaluation.evaluate`` reads a folder of labelled photos (``file``, ``identity``, and
``age`` and/or ``age_group`` young/adult), embeds every photo with the code the
workers run (upload normalisation, then ``matching.faces.detect_and_embed`` with the
process's face engine), lets every young photo search all adult people, and
reports where the true person ranks: rank-1, rank-10, rank-50 and the median
rank, for plain matching and for each improvement (every photo of a person
combined, age-gap-aware scoring, Reunion's age-progressed estimate). It also
reports the distances of true and false pairs by age gap, which is what the
age-gap parameters of ``matching.ranking`` are calibrated from
(docs/MATCHING.md, "Cross-age matching and age progression").

- ``labels``: the labels CSV, read into labelled photos;
- ``embedding``: photos embedded as the workers embed them (and Reunion's estimates), cached
  by photo and model version;
- ``ranks``: where the true person ranks, pair of people by pair of people and with matrices;
- ``distances``: true and false pairs' distances by age gap, the parameters they suggest,
  and the best threshold of pairs of photos (``calibrate_threshold``);
- ``pipelines``: one row per model and their fusion, plain and centred;
- ``evaluation``: the whole report; ``report``: the report as plain text.
"""
