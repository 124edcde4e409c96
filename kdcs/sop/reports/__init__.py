"""Reports from agents: "this SOP is wrong or misses a case" (from a scenario or a ticket),
the trainers' inbox ``/sop/reports`` with its badge, resolving by linking a version or answering."""
