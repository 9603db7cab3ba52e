"""The partners' REST API (``/api/v1/``, docs/PARTNERS.md).

At the top of the house, beside ``families.views``: it calls families' services and
reads the selectors of both apps. Each module says what it holds: ``authentication``
(the organisation's key), ``permissions``, ``throttling`` (per key), ``pagination``,
``errors`` (one shape for every error), ``serializers``, ``views`` and ``urls``.
"""
