"""webhooks/enqueue.py hands work to Celery by task name, so that nothing in webhooks imports
tasks.py: the names it sends must be the tasks' own."""

from webhooks import enqueue, tasks


def test_work_is_enqueued_under_the_names_the_tasks_are_registered_with():
    assert enqueue.DELIVER == tasks.deliver.name
    assert enqueue.FOLLOW_JENKINS_BUILD == tasks.follow_jenkins_build.name
