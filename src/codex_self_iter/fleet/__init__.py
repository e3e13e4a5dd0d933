"""Many loops at once: a bounded pool of loop processes on one machine, and the GitHub Action's helpers."""
