"""Processes people start: objections, repair applications, credit commitments.

Each is a *case* (``cases``: one lifecycle table in ``lifecycle``, the deciding authority, due
dates, the audit event, one pipeline run and the feed event for every kind); ``objections``,
``repair`` and ``commitments`` add their own rules; ``records`` writes the record versions and
records they change.

Their deadlines are counted in Chinese working days by :mod:`xinyong.workdays`
(``add_working_days``, ``is_working_day``, ``working_days_between``), from the State Council's
holiday notices.
"""
