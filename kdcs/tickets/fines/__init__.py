"""Fines of a month (罚款统计, /tickets/fines): what the brands fined, who bears it, where it came from.

``service.month_report(user, month)`` reads the fined tickets of one Shanghai month in the user's
scope (an agent: the fines charged to them; a lead: their team's queue; an admin: all) in one
statement and sums them by agent, outlet and reason; ``export`` writes the same rows to .xlsx.
A ticket counts in the month its fine was first recorded (``Ticket.fined_at``), with the fine as it
stands now (a correction in a later month changes the amount, not the month: no fine is counted in
two months): the lead's home figure "本月罚款", the queue filter, 团队表现 and 网点月报 count the same way. A fine
is charged to the agent the ticket was assigned to when it was first recorded (``Ticket.fine_agent_id``).
The views register on the tickets blueprint (``tickets.fines``, ``tickets.fines_export``).
"""
