"""Jobs: scheduled automations (schedules, kinds, services, dispatcher, runner)."""
