"""tasks: Task, Tag, Job, JobRun and the job dispatcher (see issues #5 and #6)."""
