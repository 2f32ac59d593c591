"""Webhooks: a job's ending delivered to the URL its client gave, per the Standard Webhooks spec."""
