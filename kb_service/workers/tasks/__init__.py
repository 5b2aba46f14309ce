"""Task runs: their lease queue, running one run, the run loop and the tasks' schedule."""
