"""Broadcasts: alerts to the subscribers of a commune, and the alerts events schedule.

`compose` checks and prices a broadcast before it goes, `audience` says who
gets it, `sending` starts, pauses, resumes and cancels it, `counters` keeps its
figures, `event_alerts` plans an event's announcement, reminder, start and
summary. The jobs that hand the messages over are in workers/broadcast.py and
workers/sweeper.py.
"""
