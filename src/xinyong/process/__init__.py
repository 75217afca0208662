"""Processes people start: objections, repair applications, credit commitments.

``calendar`` counts their deadlines in Chinese working days (``add_working_days``,
``is_working_day``, ``working_days_between``), from the State Council's holiday notices.
"""
