"""apbot's coordination engine: plan, store, progress and schedule, free of any chat library."""
