"""Forms for accounts, cases, seeker postings, photos, tips and the public search, one
module per entity (``families.forms.cases``...), with what they share in ``common``.

Every rule that a family or seeker can break gets a message beside the field
it concerns, in plain words, so a form can be fixed in one go; nothing is
saved until every field is right.
"""
