"""Web source syncs: the schedule that queues them, the queue, and running one."""
