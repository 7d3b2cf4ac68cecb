"""The local control plane and the FAKE pod executor (the fallback for machines that cannot
run a kubelet: JOBSCRAPE_POD_RUNNER=fake) behave like a real cluster for Jobs and CronJobs.
This module always runs them, on a cluster of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from jobscrape_dev.devcluster.controlplane import K8S_VERSION
from jobscrape_dev.devcluster.localcluster import Cluster, start_cluster

from waiting import wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A cluster whose pods the fake executor runs (this module's own)."""
    c, stop = start_cluster(audit=False, runner="fake")
    try:
        yield c
    finally:
        stop()

IMAGE = "ghcr.io/jobscrape/jobscrape:dev"
#: The harness's own test command (jobscrape-dev, not in the runtime package or image); the
#: executor runs `python` as the development environment's interpreter.
SELFTEST = ["python", "-m", "jobscrape_dev.selftest"]


def _pod_spec(args: list[str]) -> client.V1PodSpec:
    """A pod running `python -m jobscrape_dev.selftest ARGS`."""
    return client.V1PodSpec(
        restart_policy="Never",
        containers=[client.V1Container(name="main", image=IMAGE, command=SELFTEST, args=args)],
    )


def test_serves_expected_version(cluster):
    version = client.VersionApi(cluster.api).get_code()
    assert version.git_version == K8S_VERSION
    assert version.minor == K8S_VERSION.split(".")[1]


def test_cronjob_runs_through_real_controllers(cluster, namespace):
    batch = client.BatchV1Api(cluster.api)
    cj = client.V1CronJob(
        metadata=client.V1ObjectMeta(name="every-minute"),
        spec=client.V1CronJobSpec(
            schedule="* * * * *",
            job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(
                backoff_limit=0,
                template=client.V1PodTemplateSpec(
                    spec=_pod_spec(["--message", "hello from a cronjob pod"])),
            )),
        ),
    )
    batch.create_namespaced_cron_job(namespace, cj)
    job = wait_for(lambda: batch.list_namespaced_job(namespace).items, timeout=90,
                   what="the cronjob controller to create a Job")[0]
    assert job.metadata.owner_references[0].kind == "CronJob"
    done = wait_for(
        lambda: (j := batch.read_namespaced_job(job.metadata.name, namespace)).status.succeeded
        and j, timeout=60, what="the Job to complete")
    assert any(c.type == "Complete" and c.status == "True" for c in done.status.conditions)
    got = wait_for(
        lambda: batch.read_namespaced_cron_job("every-minute", namespace).status
        .last_successful_time, timeout=30, what="CronJob.status.lastSuccessfulTime")
    assert got is not None
    pods = client.CoreV1Api(cluster.api).list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={job.metadata.name}").items
    assert pods and pods[0].status.phase == "Succeeded"
    assert "hello from a cronjob pod" in cluster.pod_log(namespace, pods[0].metadata.name)


def test_failing_command_fails_pod_with_exit_code(cluster, namespace):
    batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
    batch.create_namespaced_job(namespace, client.V1Job(
        metadata=client.V1ObjectMeta(name="exit-three"),
        spec=client.V1JobSpec(backoff_limit=0, template=client.V1PodTemplateSpec(
            spec=_pod_spec(["--exit-code", "3"]))),
    ))
    pod = wait_for(
        lambda: next((p for p in core.list_namespaced_pod(namespace).items
                      if p.status.phase == "Failed"), None),
        timeout=60, what="the pod to fail")
    term = pod.status.container_statuses[0].state.terminated
    assert term.exit_code == 3
    assert term.reason == "Error"
    job = wait_for(
        lambda: (j := batch.read_namespaced_job("exit-three", namespace)).status.failed and j,
        timeout=60, what="the Job to count the failure")
    assert any(c.type == "Failed" and c.status == "True" for c in job.status.conditions)


def test_foreign_image_fails_with_clear_reason(cluster, namespace):
    core, batch = client.CoreV1Api(cluster.api), client.BatchV1Api(cluster.api)
    batch.create_namespaced_job(namespace, client.V1Job(
        metadata=client.V1ObjectMeta(name="busybox"),
        spec=client.V1JobSpec(backoff_limit=0, template=client.V1PodTemplateSpec(
            spec=client.V1PodSpec(restart_policy="Never", containers=[
                client.V1Container(name="main", image="busybox:1.36", command=["true"])]))),
    ))
    pod = wait_for(
        lambda: next((p for p in core.list_namespaced_pod(namespace).items
                      if p.status.phase == "Failed"), None),
        timeout=60, what="the foreign-image pod to fail")
    assert pod.status.reason == "ErrImageNotSupported"
    assert "busybox:1.36" in pod.status.message


def test_deleting_cronjob_collects_jobs_and_pods(cluster, namespace):
    batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
    batch.create_namespaced_cron_job(namespace, client.V1CronJob(
        metadata=client.V1ObjectMeta(name="collect-me"),
        spec=client.V1CronJobSpec(schedule="0 0 1 1 *", job_template=client.V1JobTemplateSpec(
            spec=client.V1JobSpec(template=client.V1PodTemplateSpec(
                spec=_pod_spec([])))))))
    cj = batch.read_namespaced_cron_job("collect-me", namespace)
    # a Job owned by the CronJob, as `kubectl create job --from=cronjob/...` makes
    batch.create_namespaced_job(namespace, client.V1Job(
        metadata=client.V1ObjectMeta(name="collect-me-manual", owner_references=[
            client.V1OwnerReference(api_version="batch/v1", kind="CronJob", name="collect-me",
                                    uid=cj.metadata.uid, controller=True)]),
        spec=cj.spec.job_template.spec))
    wait_for(lambda: core.list_namespaced_pod(namespace).items, timeout=60, what="a pod")
    batch.delete_namespaced_cron_job("collect-me", namespace, propagation_policy="Background")
    wait_for(lambda: not batch.list_namespaced_job(namespace).items, timeout=60,
             what="the garbage collector to delete the Job")
    wait_for(lambda: not core.list_namespaced_pod(namespace).items, timeout=60,
             what="the garbage collector to delete the Pods")


def test_mounts_do_not_touch_the_entry_point_and_deadline_is_honoured(cluster, namespace):
    """An emptyDir over the folder holding the installed jobscrape must not hide it; a pod
    past its activeDeadlineSeconds is killed and fails with DeadlineExceeded."""
    import sys
    from pathlib import Path

    batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
    venv_parent = str(Path(sys.executable).resolve().parents[2])

    def job(name, args, deadline=None):
        spec = _pod_spec(args)
        spec.containers[0].volume_mounts = [client.V1VolumeMount(name="t", mount_path=venv_parent)]
        spec.volumes = [client.V1Volume(name="t", empty_dir=client.V1EmptyDirVolumeSource())]
        spec.active_deadline_seconds = deadline
        batch.create_namespaced_job(namespace, client.V1Job(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1JobSpec(backoff_limit=0,
                                  template=client.V1PodTemplateSpec(spec=spec))))

    def pod_of(name):
        pods = core.list_namespaced_pod(
            namespace, label_selector=f"batch.kubernetes.io/job-name={name}").items
        return next((p for p in pods if p.status.phase in ("Succeeded", "Failed")), None)

    job("mounted", ["--message", "still here"])
    job("too-slow", ["--sleep", "60"], deadline=2)
    ok = wait_for(lambda: pod_of("mounted"), timeout=60, what="the mounted pod to finish")
    assert ok.status.phase == "Succeeded"
    slow = wait_for(lambda: pod_of("too-slow"), timeout=60, what="the slow pod to be killed")
    assert slow.status.phase == "Failed" and slow.status.reason == "DeadlineExceeded"
