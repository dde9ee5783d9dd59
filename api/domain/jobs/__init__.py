"""Durable jobs: work enqueued in the transaction that asks for it, run by workers that hold
a lease, renew it as they go, and hand an expired one back to the queue."""
