"""What the engine announces once its transaction commits; notifications listen to these."""

from django.dispatch import Signal

task_created = Signal()  # task_id: a task was offered (or re-offered) to people
task_reminder = Signal()  # task_id: half of the task's time has passed
task_escalated = Signal()  # task_id: the task is overdue and went to the level above
instance_finished = Signal()  # instance_id
