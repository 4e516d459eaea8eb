"""Deploy: plan, apply and diff configs against running devices through nornir and napalm.

A device's failure is a result (nornir's Result), reported with the device's name and reason —
never a traceback: nornir's own per-task error log lines are silenced here.
"""
import logging

logging.getLogger("nornir.core.task").addHandler(logging.NullHandler())
logging.getLogger("nornir.core.task").propagate = False
