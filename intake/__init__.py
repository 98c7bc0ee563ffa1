"""Reading the reporting mailbox and turning each message into a report."""
