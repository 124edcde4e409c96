"""跟进 (follow-ups): the promises an agent makes on a ticket, and the reminder when one comes due.

An agent tells a customer "我 16:00 前给您回电", an outlet "明天上午给您结果": the brand's
deadline does not know about it, and a forgotten promise is the next complaint. A follow-up
records the promise (to whom, what, by when) on the ticket page; ``rules`` says which times are
acceptable, ``service`` stores, lists and closes them (anyone who may work the ticket), the
periodic task (``tasks``) reminds whoever serves the ticket once when it comes due (the
substitute while the assignee is on leave), and 我的跟进 (/tickets/follow-ups) lists the open ones
of the user's tickets, overdue first. A leave request starts its handover's 待办承诺 from them.
The views register on the tickets blueprint (``tickets.follow_up_*``).
"""
