"""Required reading (必读, 政策变更黄金72小时): who must read a version, acknowledgements,
reminders at 24 h and 48 h, the lead at the deadline, the matrix and its export."""
