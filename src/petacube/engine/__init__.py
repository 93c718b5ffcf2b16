"""The array algebra: IR, planner and executors."""
