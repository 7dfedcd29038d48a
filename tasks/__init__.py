"""tasks: Task and Tag (work items people track); Job and JobRun come with the jobs issue."""
