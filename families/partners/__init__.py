"""The partners' wing: everything about partner organisations (shelters, police units, NGOs)
posting the found people they know of (docs/PARTNERS.md).

- ``models``: organisations, their API keys, bulk imports and refused rows (families'
  models: ``families.models`` imports them, so their tables and migrations are families');
- ``selectors``, ``services`` (``postings``: a found person by the partner's reference;
  ``imports``: a bulk import, slice by slice), ``csv_reading`` (a partner's CSV and photos);
- ``jobs`` (the import job), ``signals`` (what goes with an import or an account);
- ``api/`` (the REST API under ``/api/v1/``), ``views``, ``forms``, ``urls``, ``admin``.

The wing builds on families' core (models, selectors, services, uploads); the core never
imports the wing (tests/test_imports.py).
"""
